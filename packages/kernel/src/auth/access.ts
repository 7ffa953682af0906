import type { RegionService } from '../core/regions.js';
import { DomainError, ProblemCodes } from '../errors.js';
import { systemActor, type Actor, type SystemGrant } from './actor.js';
import type { RoleRegistry } from './roles.js';
import type { TokenClaims } from './tokens.js';

/**
 * Turns verified token claims and plugins' grants into actors, by the deployment's
 * rules: roles must be known to the deployment (unknown ones are ignored), the home
 * region must exist, and a role with a level must be signed at a region of that level.
 */
export class AccessService {
  constructor(
    private readonly roles: RoleRegistry,
    private readonly regions: RegionService,
  ) {}

  /** The actor of a verified token; `INVALID_TOKEN` (401) when the claims break a rule. */
  async fromClaims(claims: TokenClaims): Promise<Actor> {
    const roles = claims.roles.filter((r) => this.roles.has(r));
    if (roles.length === 0) throw invalidToken(`The bearer token carries no role this deployment knows (${claims.roles.join(', ')})`);
    const region = await this.regions.locate(claims.region);
    if (!region) throw invalidToken(`The token's region ${claims.region} does not exist`);
    const refusal = this.roles.refusal(roles, region.level);
    if (refusal) throw invalidToken(`The token's region ${claims.region} is a ${region.level}: ${refusal}`);
    return {
      userId: claims.sub,
      roles,
      region: claims.region,
      regionPath: region.path,
      unitId: claims.unit,
      supplierId: claims.supplier,
    };
  }

  /**
   * A plugin's system actor (see `PluginContext.systemActor`). A grant that breaks the
   * deployment's rules is a programming error of the plugin: it throws a plain Error.
   */
  async systemActor(plugin: string, grant: SystemGrant): Promise<Actor> {
    const unknown = grant.roles.filter((r) => !this.roles.has(r));
    if (grant.roles.length === 0 || unknown.length) {
      throw new Error(`plugin "${plugin}": a system actor needs known roles${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`);
    }
    if (grant.region === undefined) return systemActor(plugin, grant);
    const region = await this.regions.locate(grant.region);
    if (!region) throw new Error(`plugin "${plugin}": system actor region ${grant.region} does not exist`);
    const refusal = this.roles.refusal(grant.roles, region.level);
    if (refusal) throw new Error(`plugin "${plugin}": system actor at ${grant.region}: ${refusal}`);
    return systemActor(plugin, grant, region.path);
  }
}

function invalidToken(message: string): DomainError {
  return new DomainError('unauthenticated', ProblemCodes.INVALID_TOKEN, message);
}
