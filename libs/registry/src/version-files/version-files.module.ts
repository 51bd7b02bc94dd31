import { Module } from '@nestjs/common';
import { ProjectEncryption } from '@trellis/platform';
import { RegistryStore } from './registry-store';
import { VersionEncryption } from './version-encryption';
import { VersionFileService } from './version-file.service';
import { VersionKmsRepository } from './version-kms.repository';

/** The files of versions in the registry's own store, each encrypted or not as its version says: background copies, listing, reading and deleting them. */
@Module({ providers: [RegistryStore, VersionFileService, VersionEncryption, VersionKmsRepository, ProjectEncryption], exports: [VersionFileService, ProjectEncryption] })
export class VersionFilesModule {}
