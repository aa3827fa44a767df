import type { BackupService } from '../backups/service';
import type { HandlerRegistry } from '../ipc/handlers';
import type { HealthReport } from '../../shared/contract/health';
import type { DiagnosticsService } from './service';

const actorOf = (user: { id: number; username: string } | null) => ({ userId: user?.id ?? null, username: user?.username ?? null });

/** Admin → Health: the figures, backups, and the diagnostics zip. */
export function registerHealthHandlers(
  r: HandlerRegistry,
  deps: { health: () => Promise<HealthReport>; backups: BackupService; diagnostics: DiagnosticsService },
): void {
  r.add('health/get', () => deps.health())
    .add('backups/list', () => deps.backups.overview())
    .add('backups/run', (_req, ctx) => deps.backups.run(actorOf(ctx.user)))
    .add('backups/set-keep-days', (req, ctx) => deps.backups.setKeepDays(req.keepDays, actorOf(ctx.user)))
    .add('diagnostics/export', (_req, ctx) => deps.diagnostics.export(actorOf(ctx.user)))
    .add('diagnostics/chunk', (req) => deps.diagnostics.chunk(req.fileName, req.offset));
}
