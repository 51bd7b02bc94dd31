import { Module } from '@nestjs/common';
import { IdentityModule } from '../identity/identity.module';
import { Bootstrap } from './bootstrap';
import { RevocationsInForce } from './revocations-in-force';
import { SigningKeys } from './signing-keys';
import { TokenGrpc } from './token.grpc';
import { TokenService } from './token.service';

/** API keys, token exchange, signing keys, and the first-start bootstrap. */
@Module({
  imports: [IdentityModule],
  controllers: [TokenGrpc],
  providers: [TokenService, SigningKeys, Bootstrap, RevocationsInForce],
})
export class TokensModule {}
