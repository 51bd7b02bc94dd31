import { computeSlurmPlugin } from './compute-slurm.plugin';

export { computeSlurmConfig } from './compute-slurm.plugin';
export default computeSlurmPlugin;
