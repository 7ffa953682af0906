import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Signed tickets: what a reservation's QR code carries, so that a door device verifies it
 * without the database (its connection may drop). The payload is the reservation id, the
 * session id and the seats; the signature is Ed25519, so a door device holds only the
 * public key (`GET /v1/venue-checkin-key`) and cannot mint tickets.
 *
 * Format: `DV1.` + base64url(16-byte reservation id ‖ 16-byte session id ‖ 2-byte seats ‖ 64-byte signature).
 */
export const TICKET_PREFIX = 'DV1.';
const PAYLOAD_BYTES = 34;
const SIGNATURE_BYTES = 64;
// DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows it (RFC 8410).
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface TicketClaims {
  reservationId: string;
  sessionId: string;
  seats: number;
}

export type TicketCheck = { ok: true; claims: TicketClaims } | { ok: false; reason: 'malformed' | 'bad-signature' };

const uuidBytes = (id: string) => Buffer.from(id.replace(/-/g, ''), 'hex');
const uuidOf = (b: Buffer) => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

function payloadOf(c: TicketClaims): Buffer {
  const seats = Buffer.alloc(2);
  seats.writeUInt16BE(c.seats);
  return Buffer.concat([uuidBytes(c.reservationId), uuidBytes(c.sessionId), seats]);
}

/** The deployment's signing key pair, from a 32-byte seed derived from its secret (the same on every process). */
export class TicketSigner {
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor(seed: Buffer) {
    if (seed.length !== 32) throw new Error('An Ed25519 seed has 32 bytes');
    this.privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
    this.publicKey = createPublicKey(this.privateKey);
  }

  /** The public key as base64url of its 32 raw bytes (JWK `x`), for door devices. */
  publicKeyRaw(): string {
    return this.publicKey.export({ format: 'jwk' }).x!;
  }

  sign(c: TicketClaims): string {
    const payload = payloadOf(c);
    return TICKET_PREFIX + Buffer.concat([payload, sign(null, payload, this.privateKey)]).toString('base64url');
  }

  /** An Ed25519 signature of `bytes` (base64url): revocation lists for door devices. */
  signBytes(bytes: Buffer): string {
    return sign(null, bytes, this.privateKey).toString('base64url');
  }

  verify(ticket: string): TicketCheck {
    return verifyTicket(ticket, this.publicKey);
  }
}

/**
 * Verifies a ticket with the public key only (no database): what a door device does
 * offline. `publicKey` is a KeyObject or the base64url raw key from the key route.
 */
export function verifyTicket(ticket: string, publicKey: KeyObject | string): TicketCheck {
  if (typeof ticket !== 'string' || !ticket.startsWith(TICKET_PREFIX) || ticket.length > 200) return { ok: false, reason: 'malformed' };
  const body = ticket.slice(TICKET_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) return { ok: false, reason: 'malformed' };
  const bytes = Buffer.from(body, 'base64url');
  if (bytes.length !== PAYLOAD_BYTES + SIGNATURE_BYTES) return { ok: false, reason: 'malformed' };
  const key = typeof publicKey === 'string' ? createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' }) : publicKey;
  const payload = bytes.subarray(0, PAYLOAD_BYTES);
  if (!verify(null, payload, key, bytes.subarray(PAYLOAD_BYTES))) return { ok: false, reason: 'bad-signature' };
  return { ok: true, claims: { reservationId: uuidOf(payload.subarray(0, 16)), sessionId: uuidOf(payload.subarray(16, 32)), seats: payload.readUInt16BE(32) } };
}

/** One ticket a door must refuse offline: cancelled by its holder, or released as a no-show. */
export interface RevokedTicket {
  reservationId: string;
  status: 'cancelled' | 'no-show';
  /** When it was cancelled or released. */
  at: string;
}

/**
 * The list of a session's tickets revoked since `since` (null: since the start), as of
 * `until`, signed with the ticket key: a door device downloads it while connected and,
 * offline, refuses those tickets although their signature is good. `signature` is Ed25519
 * over the canonical JSON of the other fields, in this order (`canonicalRevocations`).
 */
export interface RevocationList {
  sessionId: string;
  since: string | null;
  until: string;
  tickets: RevokedTicket[];
  signature: string;
}

/** The bytes a revocation list's signature covers. */
export function canonicalRevocations(l: Omit<RevocationList, 'signature'>): Buffer {
  return Buffer.from(JSON.stringify({ sessionId: l.sessionId, since: l.since, until: l.until, tickets: l.tickets.map((t) => ({ reservationId: t.reservationId, status: t.status, at: t.at })) }));
}

/** Signs a revocation list with the deployment's ticket key. */
export function signRevocations(signer: TicketSigner, l: Omit<RevocationList, 'signature'>): RevocationList {
  return { ...l, signature: signer.signBytes(canonicalRevocations(l)) };
}

/** Verifies a downloaded revocation list with the public key only (what a door device does before trusting it). */
export function verifyRevocations(l: RevocationList, publicKey: KeyObject | string): boolean {
  if (typeof l?.signature !== 'string' || !Array.isArray(l.tickets)) return false;
  const key = typeof publicKey === 'string' ? createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' }) : publicKey;
  return verify(null, canonicalRevocations(l), key, Buffer.from(l.signature, 'base64url'));
}

export type OfflineCheck = { ok: true; claims: TicketClaims } | { ok: false; reason: 'malformed' | 'bad-signature' | 'wrong-session' | 'revoked'; claims?: TicketClaims; revoked?: RevokedTicket };

/**
 * The door's offline decision: the ticket's signature, its session, and the revocation
 * lists it holds (each verified; a list that does not verify is ignored, and the device
 * should fetch it again). Double entry is caught when the scans are uploaded.
 */
export function checkTicketOffline(ticket: string, publicKey: KeyObject | string, sessionId: string, lists: readonly RevocationList[]): OfflineCheck {
  const checked = verifyTicket(ticket, publicKey);
  if (!checked.ok) return checked;
  if (checked.claims.sessionId !== sessionId) return { ok: false, reason: 'wrong-session', claims: checked.claims };
  for (const l of lists) {
    if (l.sessionId !== sessionId || !verifyRevocations(l, publicKey)) continue;
    const revoked = l.tickets.find((t) => t.reservationId === checked.claims.reservationId);
    if (revoked) return { ok: false, reason: 'revoked', claims: checked.claims, revoked };
  }
  return checked;
}
