import { storageS3Plugin } from './storage-s3.plugin';

export { s3ClientFor, storageS3Config } from './storage-s3.plugin';
export default storageS3Plugin;
