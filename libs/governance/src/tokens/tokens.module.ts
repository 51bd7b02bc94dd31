import { Module } from '@nestjs/common';
import { IdentityModule } from '../identity/identity.module';
import { Bootstrap, BOOTSTRAP_OUTPUT } from './bootstrap';
import { SigningKeys } from './signing-keys';
import { TokenGrpc } from './token.grpc';
import { TokenService } from './token.service';

/** API keys, token exchange, signing keys, and the first-start bootstrap. */
@Module({
  imports: [IdentityModule],
  controllers: [TokenGrpc],
  providers: [
    TokenService,
    SigningKeys,
    Bootstrap,
    { provide: BOOTSTRAP_OUTPUT, useValue: (text: string) => process.stdout.write(text) },
  ],
})
export class TokensModule {}
