import { create } from '@bufbuild/protobuf';
import {
  ColumnProfileSchema,
  ColumnType,
  FileProfileSchema,
  ProfileStatus,
  TabularFormat as TabularFormatProto,
  type ColumnProfile as ColumnProfileProto,
  type FileProfile,
} from '@trellis/proto/trellis/data/v1/profile_service_pb';
import type { FileProfileStatus, FileProfileView } from './profile.service';
import type { ColumnProfile, ProfileColumnType, TabularFormat } from './profile.types';

/** Statuses of files and versions. */
export const STATUS: Record<FileProfileStatus, ProfileStatus> = {
  pending: ProfileStatus.PENDING,
  ready: ProfileStatus.READY,
  failed: ProfileStatus.FAILED,
  skipped: ProfileStatus.SKIPPED,
};
const FORMAT: Record<TabularFormat, TabularFormatProto> = {
  csv: TabularFormatProto.CSV,
  jsonl: TabularFormatProto.JSONL,
  parquet: TabularFormatProto.PARQUET,
};
const TYPE: Record<ProfileColumnType, ColumnType> = {
  integer: ColumnType.INTEGER,
  float: ColumnType.FLOAT,
  boolean: ColumnType.BOOLEAN,
  string: ColumnType.STRING,
  timestamp: ColumnType.TIMESTAMP,
};

const big = (n: number | undefined): bigint => BigInt(n ?? 0);

function columnToProto(column: ColumnProfile): ColumnProfileProto {
  const numeric = typeof column.min === 'number';
  return create(ColumnProfileSchema, {
    name: column.name,
    type: TYPE[column.type],
    count: big(column.count),
    missing: big(column.missing),
    ...(numeric ? { min: column.min as number, max: column.max as number } : { minText: (column.min as string | undefined) ?? '', maxText: (column.max as string | undefined) ?? '' }),
    mean: column.mean,
    stddev: column.stddev,
    quantiles: column.quantiles && { count: big(column.quantiles.count), missing: big(column.quantiles.missing), quantiles: [...column.quantiles.quantiles] },
    histogram: column.histogram && { edges: [...column.histogram.edges], counts: column.histogram.counts.map(big), missing: big(column.histogram.missing) },
    categories: column.categories && {
      counts: Object.entries(column.categories.counts).map(([value, count]) => ({ value, count: big(count) })),
      missing: big(column.categories.missing),
      otherCount: big(column.otherCount),
    },
  });
}

/** A file's profile as GetVersionProfile returns it. */
export function fileProfileToProto(view: FileProfileView): FileProfile {
  return create(FileProfileSchema, {
    path: view.path,
    status: STATUS[view.status],
    message: view.message,
    format: view.format ? FORMAT[view.format] : TabularFormatProto.UNSPECIFIED,
    rows: big(view.profile?.rows),
    invalidRows: big(view.profile?.invalidRows),
    columns: (view.profile?.columns ?? []).map(columnToProto),
  });
}
