import { create } from '@bufbuild/protobuf';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcStreamMethod } from '@nestjs/microservices';
import { callerOf, headerThenBody, Requires, type PausableCall } from '@trellis/platform';
import {
  CommitDatasetVersionTarResponseSchema,
  type CommitDatasetVersionTarRequest,
  type CommitDatasetVersionTarResponse,
} from '@trellis/proto/trellis/data/v1/data_service_pb';
import type { Observable } from 'rxjs';
import { commitHeaderOf, versionToProto } from './version.mapping';
import { VERSION_KIND } from './version.service';
import { VersionPushService } from './version-push.service';

/** The handler of `DataService.CommitDatasetVersionTar`: a version committed from a tar archive in one call. */
@Controller()
export class VersionPushGrpc {
  constructor(private readonly pushes: VersionPushService) {}

  // Stream handlers return Observables: Nest feeds the request stream only after the handler returns.
  @GrpcStreamMethod('DataService', 'CommitDatasetVersionTar')
  @Requires('create', VERSION_KIND)
  commitDatasetVersionTar(requests: Observable<CommitDatasetVersionTarRequest>, metadata: Metadata, call?: PausableCall): Observable<CommitDatasetVersionTarResponse> {
    const caller = callerOf(metadata);
    return headerThenBody(requests, call, async (header, archive) => {
      const pushed = await this.pushes.push(caller, commitHeaderOf(header), archive);
      return create(CommitDatasetVersionTarResponseSchema, { version: versionToProto(pushed.view), blobsWritten: BigInt(pushed.blobsWritten), bytesWritten: BigInt(pushed.bytesWritten) });
    });
  }
}
