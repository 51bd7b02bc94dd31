import { Module } from '@nestjs/common';
import { RegistryStore } from './registry-store';
import { VersionFileService } from './version-file.service';

/** The files of versions in the registry's own store: background copies, listing, reading and deleting them. */
@Module({ providers: [RegistryStore, VersionFileService], exports: [VersionFileService] })
export class VersionFilesModule {}
