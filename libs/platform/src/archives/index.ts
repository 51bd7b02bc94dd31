export { tarFiles, TarFormatError, type TarFile } from './tar-files';
