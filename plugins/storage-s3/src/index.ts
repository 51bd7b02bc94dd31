import { storageS3Plugin } from './storage-s3.plugin';

export { storageS3Config, type StorageS3Config } from './storage-s3.plugin';
export default storageS3Plugin;
