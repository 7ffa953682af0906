/**
 * Prints bearer tokens for the demo users, signed with the development secret the
 * deployment uses (DIANDAN_JWT_SECRET or the built-in development one). For trying
 * the API with curl or /docs — never for production, where an identity provider
 * issues tokens and DIANDAN_JWKS_URL verifies them.
 */
import { signDevelopmentToken } from '@diandan/kernel';
import deployment from '../diandan.config.js';
import { DEMO_USERS } from './demo/catalogue.js';

const secret = deployment.auth?.secret;
if (!secret) {
  console.error('This deployment verifies tokens with DIANDAN_JWKS_URL; ask your identity provider for tokens.');
  process.exit(1);
}
for (const user of DEMO_USERS) {
  const token = await signDevelopmentToken(secret, { ...user, roles: [...user.roles] }, { expiresIn: '30d' });
  console.log(`# ${user.sub} (${user.roles.join(', ')} @ ${user.region})\n${token}\n`);
}
