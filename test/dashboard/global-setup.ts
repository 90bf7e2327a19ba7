import { ensureDashboardBuilt } from './dashboard.js';

/** Rebuilds the dashboard once per run when web/ changed since the last build (tests serve dist/dashboard). */
export default async function setup(): Promise<void> {
  await ensureDashboardBuilt();
}
