import { storageFsPlugin } from './storage-fs.plugin';

export { FsObjectStore } from './fs-object-store';
export { storageFsConfig } from './storage-fs.plugin';
export default storageFsPlugin;
