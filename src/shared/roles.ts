export const ROLES = ['admin', 'biller', 'dispatcher'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, string> = {
  admin: 'Admin',
  biller: 'Biller',
  dispatcher: 'Dispatcher',
};
