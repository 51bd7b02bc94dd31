import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Inject, Injectable } from '@nestjs/common';
import { excerpt, type GrpcCallOptions, LOGGER, type Logger, ServiceClients, ServiceIdentity } from '@trellis/platform';
import { BlobServiceDesc, DataServiceDesc } from '@trellis/proto';
import type { DatasetVersion } from '@trellis/proto/trellis/data/v1/resources_pb';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { EntityManager } from 'typeorm';
import type { MonitorEntity } from '../monitors/monitor.entity';
import { WindowService } from '../windows/window.service';
import { readDatasetFile, tabularFormatOf, type DatasetWindow } from './dataset-file';
import { DatasetVersionRepository, type VersionToScore } from './dataset-version.repository';

/** Tries to read and score a version before it is given up on. */
export const VERSION_ATTEMPTS = 3;
/** The wait after the first failed try; each further wait doubles. */
const RETRY_AFTER_MS = 1000;
/** Versions a pass of the worker takes at most. */
const PASS = 20;
/** Files per page of ListDatasetVersionFiles: its most. */
const FILES_PAGE = 1000;
/** How a monitor's state message that names a version not scored begins, so that a later scored version clears it. */
const NOT_SCORED = 'version ';

/**
 * Monitors of a dataset's versions: each version committed after a monitor's reference is recorded
 * (in the transaction that consumes data's event), then read and scored, as the service's own
 * account on behalf of the monitor's creator, as one window of the monitor, exactly once.
 */
@Injectable()
export class DatasetMonitorService {
  constructor(
    private readonly repository: DatasetVersionRepository,
    private readonly windows: WindowService,
    private readonly clients: ServiceClients,
    private readonly identity: ServiceIdentity,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Records a committed version for each monitor of its dataset whose reference it comes after, in `tx`. */
  async versionCommitted(tx: EntityManager, version: DatasetVersion): Promise<void> {
    const number = Number(version.version);
    const committedAtMs = version.createTime ? timestampMs(version.createTime) : Date.now();
    const monitors = await this.repository.monitorsOfDataset(tx, version.projectId, version.datasetId);
    const after = monitors.filter((monitor) => monitor.reference.kind === 'dataset_version' && number > monitor.reference.version);
    await this.repository.enqueue(
      tx,
      after.map((monitor) => ({ monitorId: monitor.id, version: number, committedAtMs })),
      Date.now(),
    );
  }

  /** Scores the versions due now, oldest commit first; how many it took. */
  async scoreDue(signal?: AbortSignal): Promise<number> {
    const due = await this.repository.due(Date.now(), PASS);
    for (const version of due) {
      if (signal?.aborted) break;
      await this.scoreVersion(version, signal);
    }
    return due.length;
  }

  /**
   * Reads the version's file and stores it as the monitor's next window, marking the version done
   * in the same transaction; a version done already (another replica) is left. A file that cannot
   * be found, downloaded or read is tried again later, `VERSION_ATTEMPTS` times in all, then given
   * up on, which the monitor's state message says.
   */
  async scoreVersion(version: VersionToScore, signal?: AbortSignal): Promise<void> {
    const monitor = await this.repository.transaction((tx) => this.repository.monitor(tx, version.monitorId));
    if (!monitor || monitor.state !== 'active') return;
    const dir = await mkdtemp(join(tmpdir(), 'trellis-monitor-version-'));
    try {
      let read: DatasetWindow;
      try {
        read = await this.read(monitor, version.version, dir, signal);
      } catch (error) {
        if (signal?.aborted) return;
        await this.failed(monitor, version, error as Error);
        return;
      }
      await this.repository.transaction(async (tx) => {
        const pending = await this.repository.lockPending(tx, version.monitorId, version.version);
        const current = pending && (await this.repository.monitor(tx, version.monitorId));
        if (!pending || !current || current.state !== 'active') return;
        await this.windows.recordWindow(tx, current, { values: read.values, rows: read.rows, startMs: version.committedAtMs, endMs: version.committedAtMs, datasetVersion: version.version });
        await this.repository.settle(tx, version.monitorId, version.version, { status: 'done', attempts: pending.attempts + 1, error: '', nextAttemptMs: 0 });
        if (current.stateMessage.startsWith(NOT_SCORED)) await this.repository.noteOnMonitor(tx, current.id, '');
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Removes what the feature keeps of a deleted monitor. */
  async forget(tx: EntityManager, monitorId: string): Promise<void> {
    await this.repository.deleteMonitor(tx, monitorId);
  }

  /** The monitor's columns of the version's file, downloaded into `dir`. */
  private async read(monitor: MonitorEntity, version: number, dir: string, signal?: AbortSignal): Promise<DatasetWindow> {
    const options = await this.identity.callOptions({ onBehalfOf: monitor.creatorId, projectId: monitor.projectId, signal });
    const path = monitor.datasetPath || (await this.onlyTabularFile(options, monitor, version));
    const format = tabularFormatOf(path);
    if (!format) throw new Error(`${excerpt(path)} is not a CSV, JSON Lines or Parquet file`);
    const file = join(dir, `file.${format}`);
    const chunks = this.clients.of(BlobServiceDesc, 'data').downloadDatasetFile({ datasetId: monitor.datasetId, version: BigInt(version), path }, options);
    await pipeline(
      (async function* () {
        for await (const { chunk } of chunks) yield chunk;
      })(),
      createWriteStream(file),
    );
    return readDatasetFile(file, format, monitor.monitoredColumns);
  }

  /** The path of the version's only tabular file (by its extension); an error when it has none or several. */
  private async onlyTabularFile(options: GrpcCallOptions, monitor: MonitorEntity, version: number): Promise<string> {
    const tabular: string[] = [];
    let pageToken = '';
    do {
      const page = await this.clients.of(DataServiceDesc, 'data').listDatasetVersionFiles({ datasetId: monitor.datasetId, version: BigInt(version), pageSize: FILES_PAGE, pageToken }, options);
      tabular.push(...page.files.map((file) => file.path).filter((path) => tabularFormatOf(path)));
      pageToken = page.nextPageToken;
    } while (pageToken && tabular.length < 2);
    if (tabular.length !== 1) {
      throw new Error(`it has ${tabular.length ? 'several tabular files' : 'no tabular file'}; name the one to score with the monitor's dataset.path`);
    }
    return tabular[0];
  }

  /** Counts a failed try: due again after a back-off, or given up on after the last, said on the monitor. */
  private async failed(monitor: MonitorEntity, version: VersionToScore, error: Error): Promise<void> {
    const attempts = version.attempts + 1;
    const message = excerpt((error as { details?: string }).details || error.message, 1024);
    const giveUp = attempts >= VERSION_ATTEMPTS;
    this.logger.warn({ monitor: monitor.id, version: version.version, attempts, err: error }, `version ${version.version} of dataset ${monitor.datasetName} could not be scored for monitor ${monitor.id}: ${message}`);
    await this.repository.transaction(async (tx) => {
      if (!(await this.repository.lockPending(tx, version.monitorId, version.version))) return;
      await this.repository.settle(tx, version.monitorId, version.version, {
        status: giveUp ? 'failed' : 'pending',
        attempts,
        error: message,
        nextAttemptMs: giveUp ? 0 : Date.now() + RETRY_AFTER_MS * 2 ** (attempts - 1),
      });
      if (giveUp) await this.repository.noteOnMonitor(tx, monitor.id, `${NOT_SCORED}${version.version} of dataset ${monitor.datasetName} was not scored after ${attempts} tries: ${message}`);
    });
  }
}
