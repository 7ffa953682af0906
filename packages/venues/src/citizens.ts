import { randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import { DomainError, maskPhone, notFound, prepareRows, transaction, type Database, type Executor, type PersonalData } from '@diandan/kernel';
import { VenueProblems } from './problems.js';
import { citizenTokens, citizens, otpChallenges } from './schema.js';

/** Sends a one-time code to a phone (SMS in production). The code must never be logged by anything else. */
export interface OtpSender {
  send(message: { phone: string; phoneMasked: string; code: string; expiresAt: string }): Promise<void>;
}

/** A citizen as every response shows them: the phone masked. */
export interface Citizen {
  id: string;
  phone: string;
}

export interface CitizenConfig {
  codeTtlSeconds: number;
  maxAttempts: number;
  /** Most codes sent to one phone within an hour. */
  codesPerHour: number;
  tokenTtlHours: number;
  /**
   * How long a verified token is remembered in-process (0: looked up on every request). A
   * token is never accepted past its expiry; one deleted from the database behind the
   * service's back is accepted for up to this long by a process that had verified it.
   */
  tokenCacheSeconds?: number;
}

/** Most tokens remembered at once (the oldest are forgotten first). */
const TOKEN_CACHE_SIZE = 10_000;

/** Mainland mobile numbers, spaces, dashes and a +86 prefix removed. */
export function normalisePhone(raw: string): string | null {
  const digits = raw.replace(/[\s-]/g, '').replace(/^(\+?86)(?=1\d{10}$)/, '');
  return /^1[3-9]\d{9}$/.test(digits) ? digits : null;
}

const hashOf = (pd: PersonalData, purpose: string, value: string) => pd.hash(purpose, value);

/**
 * Citizens identified by a verified phone: a one-time code through a pluggable sender,
 * then a session token (header `x-citizen-token`). The phone is kept as a keyed hash
 * (to find the citizen) and sealed; codes and tokens only as keyed hashes.
 */
export class CitizenService {
  private sender: OtpSender | undefined;
  /** Every citizen request starts with this: prepared once rather than built per request. */
  private readonly byToken: (v: { tokenHash: string; now: string }) => Promise<(Citizen & { expiresAt: Date | string })[]>;
  /** Verified tokens by their hash: whom they name, and until when that may be believed without the database. */
  private readonly verified = new Map<string, { citizen: Citizen; until: number }>();

  constructor(
    private readonly db: Database,
    private readonly pd: PersonalData,
    private readonly config: CitizenConfig,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.byToken = prepareRows<{ id: string; phone: string; expiresAt: Date | string }>(
      db,
      'venues.citizen.by-token',
      sql`select c.id, c.phone_masked as phone, t.expires_at as "expiresAt" from ${citizenTokens} t join ${citizens} c on c.id = t.citizen_id
          where t.token_hash = ${sql.placeholder('tokenHash')} and t.expires_at > ${sql.placeholder('now')}::timestamptz`,
    );
  }

  /** Runs `fn` with another sender (the demo seed verifies its synthetic citizens this way), then restores the sender. */
  async withSender<T>(sender: OtpSender, fn: () => Promise<T>): Promise<T> {
    const before = this.sender;
    this.sender = sender;
    try {
      return await fn();
    } finally {
      this.sender = before;
    }
  }

  /** Plugs in the sender of one-time codes (an SMS gateway plugin calls this in its `init`). */
  useSender(sender: OtpSender | undefined): void {
    this.sender = sender;
  }

  async requestCode(rawPhone: string): Promise<{ challengeId: string; phone: string; expiresAt: string }> {
    const phone = normalisePhone(rawPhone);
    if (!phone) throw new DomainError('invalid', VenueProblems.PHONE_INVALID, 'A mainland mobile number (11 digits starting with 1) is needed');
    if (!this.sender) throw new DomainError('conflict', VenueProblems.OTP_UNAVAILABLE, 'No one-time code sender is configured in this deployment');
    const phoneHash = hashOf(this.pd, 'venues-phone', phone);
    const hourAgo = new Date(this.now().getTime() - 3_600_000);
    const [recent] = await this.db.select({ n: sql<number>`count(*)::int` }).from(otpChallenges).where(and(eq(otpChallenges.phoneHash, phoneHash), gt(otpChallenges.createdAt, hourAgo)));
    if (Number(recent!.n) >= this.config.codesPerHour) throw new DomainError('conflict', VenueProblems.OTP_TOO_MANY, 'Too many codes were sent to this phone in the last hour; try later');
    const id = randomUUID();
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expiresAt = new Date(this.now().getTime() + this.config.codeTtlSeconds * 1000);
    await this.db.insert(otpChallenges).values({ id, phoneHash, phoneSealed: this.pd.encrypt(phone, `venues-otp:${id}:phone`), codeHash: hashOf(this.pd, 'venues-otp', `${id}:${code}`), expiresAt, createdAt: this.now() });
    await this.sender.send({ phone, phoneMasked: maskPhone(phone), code, expiresAt: expiresAt.toISOString() });
    return { challengeId: id, phone: maskPhone(phone), expiresAt: expiresAt.toISOString() };
  }

  /** Checks a code; a right one (once) gives a token. Every try counts, right or wrong. */
  async verify(challengeId: string, code: string): Promise<{ token: string; expiresAt: string; citizen: Citizen }> {
    const now = this.now();
    // Count the attempt first, in its own statement, so that a wrong code's count is kept.
    const [challenge] = await this.db
      .update(otpChallenges)
      .set({ attempts: sql`${otpChallenges.attempts} + 1` })
      .where(and(eq(otpChallenges.id, challengeId), isNull(otpChallenges.usedAt)))
      .returning();
    if (!challenge) throw notFound(VenueProblems.OTP_NOT_FOUND, 'No such code request, or it was used already');
    if (challenge.attempts > this.config.maxAttempts) throw new DomainError('conflict', VenueProblems.OTP_TOO_MANY, 'Too many wrong codes: request a new one');
    if (challenge.expiresAt <= now) throw new DomainError('conflict', VenueProblems.OTP_EXPIRED, 'The code expired: request a new one');
    const expected = Buffer.from(challenge.codeHash);
    const given = Buffer.from(hashOf(this.pd, 'venues-otp', `${challengeId}:${code}`));
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new DomainError('invalid', VenueProblems.OTP_WRONG, 'Wrong code');
    return transaction(this.db, async (tx) => {
      const [used] = await tx.update(otpChallenges).set({ usedAt: now }).where(and(eq(otpChallenges.id, challengeId), isNull(otpChallenges.usedAt))).returning({ id: otpChallenges.id });
      if (!used) throw notFound(VenueProblems.OTP_NOT_FOUND, 'No such code request, or it was used already');
      const phone = this.pd.decrypt(challenge.phoneSealed, `venues-otp:${challengeId}:phone`);
      const citizenId = randomUUID();
      await tx
        .insert(citizens)
        .values({ id: citizenId, phoneHash: challenge.phoneHash, phoneSealed: this.pd.encrypt(phone, `venues-citizen:${citizenId}:phone`), phoneMasked: maskPhone(phone) })
        .onConflictDoNothing({ target: citizens.phoneHash });
      const [citizen] = await tx.select().from(citizens).where(eq(citizens.phoneHash, challenge.phoneHash));
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now.getTime() + this.config.tokenTtlHours * 3_600_000);
      await tx.insert(citizenTokens).values({ tokenHash: hashOf(this.pd, 'venues-citizen-token', token), citizenId: citizen!.id, expiresAt });
      // Old tokens and codes go once they have expired.
      await tx.delete(citizenTokens).where(and(eq(citizenTokens.citizenId, citizen!.id), lt(citizenTokens.expiresAt, now)));
      return { token, expiresAt: expiresAt.toISOString(), citizen: { id: citizen!.id, phone: citizen!.phoneMasked } };
    });
  }

  /** A citizen's phone, unsealed, and its mask: for a notification sender only (never logged, never in a response). */
  async contactOf(citizenId: string, db: Executor = this.db): Promise<{ phone: string; phoneMasked: string } | undefined> {
    const [row] = await db.select({ sealed: citizens.phoneSealed, masked: citizens.phoneMasked }).from(citizens).where(eq(citizens.id, citizenId));
    return row && { phone: this.pd.decrypt(row.sealed, `venues-citizen:${citizenId}:phone`), phoneMasked: row.masked };
  }

  /**
   * The citizen a token names, or a 401. Every citizen request starts with this, so a token
   * verified once is remembered for `tokenCacheSeconds` (never past its expiry) instead of
   * costing each request a round trip to the database.
   */
  async authenticate(token: string | undefined): Promise<Citizen> {
    const refuse = () => new DomainError('unauthenticated', VenueProblems.CITIZEN_UNAUTHENTICATED, 'This route needs a citizen token (`x-citizen-token`, from POST /v1/citizen-codes/{id}/verify)');
    if (!token || token.length > 100) throw refuse();
    const tokenHash = hashOf(this.pd, 'venues-citizen-token', token);
    const now = this.now();
    const known = this.verified.get(tokenHash);
    if (known && known.until > now.getTime()) return known.citizen;
    if (known) this.verified.delete(tokenHash);
    const [row] = await this.byToken({ tokenHash, now: now.toISOString() });
    if (!row) throw refuse();
    const citizen = { id: row.id, phone: row.phone };
    const ttlMs = (this.config.tokenCacheSeconds ?? 0) * 1000;
    if (ttlMs > 0) {
      if (this.verified.size >= TOKEN_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(tokenHash, { citizen, until: Math.min(now.getTime() + ttlMs, new Date(row.expiresAt).getTime()) });
    }
    return citizen;
  }
}
