import { computeLocalPlugin } from './compute-local.plugin';

export { computeLocalConfig } from './compute-local.plugin';
export default computeLocalPlugin;
