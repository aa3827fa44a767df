import type { HandlerRegistry } from '../ipc/handlers';
import type { DashboardService } from './service';

export function registerDashboardHandlers(r: HandlerRegistry, dashboard: DashboardService): void {
  r.add('dashboard/today', () => dashboard.today());
}
