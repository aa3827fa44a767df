import type { AuditContext } from '../audit/record';
import type { AuthService } from '../auth/service';
import type { SessionRegistry } from '../auth/sessions';
import type { DockDoorService } from '../bags/dock-door';
import type { BillService } from '../bills/service';
import type { SettingsService } from '../settings/service';
import type { UserService } from '../users/service';
import type { Logger } from '../platform/logger';

/** Sign-ins for the demo, printed by the host and listed in README; only ever seeded in demo mode. */
export const DEMO_USERS = [
  { username: 'admin', displayName: 'Demo Admin', role: 'admin', password: 'dockside-admin' },
  { username: 'billing', displayName: 'Demo Biller', role: 'biller', password: 'dockside-billing' },
  { username: 'dock1', displayName: 'Dock Door 1', role: 'dispatcher', password: 'dockside-dock1', pin: '3917' },
] as const;

export interface DemoDeps {
  users: UserService;
  auth: AuthService;
  settings: SettingsService;
  sessions: SessionRegistry;
  dockDoor: DockDoorService;
  bills: BillService;
  audit: AuditContext;
  logger: Logger;
}

/**
 * Demo users, then a morning's work at the dock done through the real services (so it has its
 * scan log, audit and outbox rows): three parents with children and one draft bill.
 */
export async function seedDemoData(deps: DemoDeps): Promise<void> {
  const [admin, ...rest] = DEMO_USERS;
  const adminRow = await deps.auth.createFirstAdmin(admin);
  const actor = { userId: adminRow.id, username: adminRow.username };
  const created = [];
  for (const u of rest) created.push(await deps.users.create({ ...u }, actor));
  deps.settings.update({ targetChildrenPerParent: 30, stationName: 'Demo dock door 1' }, actor, deps.audit);

  const dock = created.find((u) => u.role === 'dispatcher')!;
  const seedSession = deps.sessions.open('demo seed', () => {});
  const scanner = { id: dock.id, username: dock.username };
  const load: [string, number][] = [
    ['SB00001', 30],
    ['SB00002', 12],
    ['M444-00001', 5],
  ];
  let n = 0;
  for (const [parent, children] of load) {
    deps.dockDoor.scan(seedSession, scanner, { code: parent, source: 'wedge' });
    for (let i = 0; i < children; i++) deps.dockDoor.scan(seedSession, scanner, { code: `C-${String(++n).padStart(6, '0')}`, source: 'wedge' });
  }
  deps.sessions.close(seedSession);
  const biller = created.find((u) => u.role === 'biller')!;
  const billActor = { userId: biller.id, username: biller.username };
  const bill = deps.bills.create('Demo truck 7', billActor);
  deps.bills.addParent(bill.id, 'SB00001', billActor);
  deps.logger.info({ users: DEMO_USERS.map((u) => u.username), bags: n + load.length }, 'seeded demo data');
}
