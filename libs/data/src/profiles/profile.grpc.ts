import { create } from '@bufbuild/protobuf';
import type { Metadata } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { callerOf, Requires } from '@trellis/platform';
import {
  GetVersionProfileResponseSchema,
  type GetVersionProfileRequest,
  type GetVersionProfileResponse,
} from '@trellis/proto/trellis/data/v1/profile_service_pb';
import { VERSION_KIND } from '../versions/version.service';
import { fileProfileToProto, STATUS } from './profile.mapping';
import { ProfileService } from './profile.service';

/** Handlers of `trellis.data.v1.ProfileService`. */
@Controller()
export class ProfileGrpc {
  constructor(private readonly profiles: ProfileService) {}

  @GrpcMethod('ProfileService', 'GetVersionProfile')
  @Requires('read', VERSION_KIND)
  async getVersionProfile(request: GetVersionProfileRequest, metadata: Metadata): Promise<GetVersionProfileResponse> {
    const page = await this.profiles.versionProfile(callerOf(metadata), request.datasetId, Number(request.version), request.pathPrefix, request);
    return create(GetVersionProfileResponseSchema, {
      files: page.items.map(fileProfileToProto),
      nextPageToken: page.nextPageToken,
      status: STATUS[page.status],
      tabularFiles: BigInt(page.counts.tabular),
      readyFiles: BigInt(page.counts.ready),
      failedFiles: BigInt(page.counts.failed),
    });
  }
}
