import { Module } from '@nestjs/common';
import { IdentityModule } from '../identity/identity.module';
import { FirstStartBootstrap } from './first-start.bootstrap';
import { RevocationsInForce } from './revocations-in-force.loader';
import { SigningKeyKms } from './signing-key-kms';
import { SigningKeyService } from './signing-key.service';
import { TokenGrpc } from './token.grpc';
import { TokenRepository } from './token.repository';
import { TokenService } from './token.service';

/** API keys, token exchange, signing keys, and the first-start bootstrap. */
@Module({
  imports: [IdentityModule],
  controllers: [TokenGrpc],
  providers: [TokenService, TokenRepository, SigningKeyService, SigningKeyKms, FirstStartBootstrap, RevocationsInForce],
})
export class TokensModule {}
