export { tarFiles, type TarFile } from './tar-files';
