import type { Role } from '../../../shared/roles';

export type ScreenId = 'scan' | 'bills' | 'search' | 'data' | 'trips' | 'verify' | 'reports' | 'admin';

export interface NavItem {
  id: ScreenId;
  label: string;
  /** Function key that opens it, for stations without a mouse. */
  key: string;
  /** Who sees it. Main enforces roles on every call; this only keeps the menu relevant. */
  roles: readonly Role[];
  /** One plain sentence for a screen whose work is not built yet; null once it is. */
  notYet: string | null;
}

export const NAV: readonly NavItem[] = [
  { id: 'scan', label: 'Scan', key: 'F1', roles: ['admin', 'dispatcher'], notYet: null },
  { id: 'bills', label: 'Bills', key: 'F2', roles: ['admin', 'biller'], notYet: null },
  { id: 'search', label: 'Search', key: 'F3', roles: ['admin', 'biller', 'dispatcher'], notYet: null },
  // Billers read trips (and what is packed); dispatchers and admins plan and pack them.
  { id: 'trips', label: 'Trips', key: 'F4', roles: ['admin', 'biller', 'dispatcher'], notYet: null },
  {
    id: 'verify',
    label: 'Verify',
    key: 'F5',
    roles: ['admin', 'dispatcher'],
    notYet: null,
  },
  {
    id: 'reports',
    label: 'Reports',
    key: 'F6',
    roles: ['admin', 'biller', 'dispatcher'],
    notYet: null,
  },
  { id: 'data', label: 'Import', key: 'F7', roles: ['admin', 'biller'], notYet: null },
  { id: 'admin', label: 'Admin', key: 'F8', roles: ['admin'], notYet: null },
];

export function navFor(role: Role): NavItem[] {
  return NAV.filter((item) => item.roles.includes(role));
}

/**
 * Where each role lands after signing in. Admins supervise: they land on Reports, whose first tab
 * is Today (the operations dashboard); billers on their bills; dispatchers at the dock door.
 */
export const LANDING: Record<Role, ScreenId> = { admin: 'reports', biller: 'bills', dispatcher: 'scan' };

export function landingFor(role: Role): NavItem | undefined {
  return navFor(role).find((item) => item.id === LANDING[role]);
}
