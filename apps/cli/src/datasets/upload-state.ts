import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { configPath } from '../config-store';

/** An upload in parts the gateway holds open, to resume after an interrupted push. */
export interface OpenUpload {
  uploadId: string;
  partSize: number;
}

/** What `uploads.json` holds, per gateway and project (keys: `<gateway> <project> <sha256>`, `<gateway> <dataset>`). */
interface UploadStateFile {
  uploads: Record<string, OpenUpload>;
  /** Pushes that began uploading and have not committed: the next push of the dataset resumes one. */
  pushes: Record<string, { startTime: string }>;
}

/**
 * What a push remembers between runs, next to the CLI's profiles (`uploads.json` in
 * TRELLIS_CONFIG_DIR or ~/.config/trellis, 0600): the ids of uploads in parts it left open, so that
 * a rerun sends only the parts the gateway lacks, and which datasets have a push under way, so that
 * a rerun says it resumes. Blobs themselves need no memory: the gateway says which it holds.
 */
export class UploadState {
  private readonly path: string;

  constructor(
    private readonly gateway: string,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.path = join(dirname(configPath(env)), 'uploads.json');
  }

  upload(projectId: string, sha256: string): OpenUpload | undefined {
    return this.read().uploads[`${this.gateway} ${projectId} ${sha256}`];
  }

  setUpload(projectId: string, sha256: string, upload: OpenUpload | undefined): void {
    this.change((state) => {
      const key = `${this.gateway} ${projectId} ${sha256}`;
      if (upload) state.uploads[key] = upload;
      else delete state.uploads[key];
    });
  }

  /** Whether a push of the dataset began and did not commit. */
  pushUnderway(datasetId: string): boolean {
    return this.read().pushes[`${this.gateway} ${datasetId}`] !== undefined;
  }

  setPushUnderway(datasetId: string, underway: boolean): void {
    this.change((state) => {
      const key = `${this.gateway} ${datasetId}`;
      if (underway) state.pushes[key] = { startTime: new Date().toISOString() };
      else delete state.pushes[key];
    });
  }

  private read(): UploadStateFile {
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<UploadStateFile>;
      return { uploads: parsed.uploads ?? {}, pushes: parsed.pushes ?? {} };
    } catch {
      return { uploads: {}, pushes: {} };
    }
  }

  private change(edit: (state: UploadStateFile) => void): void {
    const state = this.read();
    edit(state);
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}
