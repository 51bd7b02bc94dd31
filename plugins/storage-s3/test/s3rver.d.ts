// The parts of s3rver 3.7 (plain JavaScript, no types of its own) that the test server uses.
declare module 's3rver' {
  import type { Server } from 'node:http';
  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory: string;
    configureBuckets?: { name: string }[];
  }
  class S3rver {
    constructor(options: S3rverOptions);
    store: unknown;
    context: { store: unknown };
    middleware: ((ctx: unknown, next: () => Promise<void>) => unknown)[];
    httpServer: Server;
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
  export = S3rver;
}

declare module 's3rver/lib/stores/filesystem' {
  class FilesystemStore {
    constructor(rootDirectory: string);
    getResourcePath(bucket: string, key: string | undefined, resource: string): string;
    getBucketPath(bucket: string): string;
    getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
    putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
    getObject(bucket: string, key: string, options?: unknown): Promise<unknown>;
    listObjects(bucket: string, options: Record<string, unknown>): Promise<unknown>;
    deleteObject(bucket: string, key: string): Promise<void>;
  }
  export = FilesystemStore;
}

declare module 's3rver/lib/models/object' {
  class S3Object {
    constructor(bucket: string, key: string, content: unknown, metadata: Record<string, string>);
    content: NodeJS.ReadableStream | Buffer | null;
    metadata: Record<string, string>;
  }
  export = S3Object;
}

declare module 's3rver/lib/models/error' {
  class S3Error extends Error {
    constructor(code: string, message: string, detail?: Record<string, string>);
  }
  export = S3Error;
}
