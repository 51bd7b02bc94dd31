import { driftStatsPlugin } from './drift-stats.plugin';

export { driftStatsConfig } from './drift-stats.plugin';
export default driftStatsPlugin;
