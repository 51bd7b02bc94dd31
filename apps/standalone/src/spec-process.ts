import { runProcess, type RunningProcess } from '@trellis/platform';
import { S3_TEST_CREDENTIALS } from '@trellis/plugin-storage-s3/testing';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILT_IN_PLUGINS, EDGES, SERVICES } from './services';

/**
 * The environment that makes storage-s3 on `bucket` of the S3 server at `endpoint` the standalone
 * program's `default` storage instance (keys under `trellis/`), with the test server's
 * credentials: it writes the config file into `dir`.
 */
export function s3DefaultStorageEnv(dir: string, endpoint: string, bucket: string): Record<string, string> {
  const config = join(dir, 'trellis.yaml');
  const instance = ['    plugin: storage-s3', '    config:', `      bucket: ${bucket}`, `      endpoint: ${endpoint}`, '      forcePathStyle: true', '      prefix: trellis'];
  const credentials = ['      credentials:', '        accessKeyId: env:TRELLIS_TEST_S3_ACCESS_KEY_ID', '        secretAccessKey: env:TRELLIS_TEST_S3_SECRET_ACCESS_KEY'];
  writeFileSync(config, ['storage:', '  default:', ...instance, ...credentials, ''].join('\n'));
  return {
    TRELLIS_CONFIG: config,
    TRELLIS_TEST_S3_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
    TRELLIS_TEST_S3_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
    // The pinned SDK's notice that its releases after January 2027 need Node 22 (plugins/storage-s3/README.md).
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/**
 * The standalone program in this process, as a spec runs it: data under `dataDir`, every port
 * picked free, logs silent, `adminKey` as governance's first admin key, and `env` on top. It
 * changes `process.env`: a spec saves it first and restores it after.
 */
export function startStandalone(dataDir: string, adminKey: string, env: Record<string, string> = {}): Promise<RunningProcess> {
  Object.assign(process.env, { TRELLIS_DATA_DIR: dataDir, TRELLIS_OPS_PORT: '0', TRELLIS_SERVING_HTTP_PORT: '0', TRELLIS_GATEWAY_PORT: '0', TRELLIS_LOG_LEVEL: 'silent', TRELLIS_GOVERNANCE_ADMIN_KEY: adminKey, ...env });
  for (const service of SERVICES) process.env[`TRELLIS_${service.name.toUpperCase()}_PORT`] = '0';
  return runProcess({ mode: 'standalone', services: SERVICES, edges: EDGES, plugins: BUILT_IN_PLUGINS, print: () => undefined });
}
