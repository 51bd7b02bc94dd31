import { Module } from '@nestjs/common';
import { RegistryStore } from './registry-store';
import { VersionFileRepository } from './version-file.repository';
import { VersionFileService } from './version-file.service';

/** The files of versions in the registry's own store: background copies, listing, reading and deleting them. */
@Module({ providers: [RegistryStore, VersionFileRepository, VersionFileService], exports: [VersionFileService] })
export class VersionFileModule {}
