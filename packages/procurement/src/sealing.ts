import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { DomainError } from '@diandan/kernel';
import type { DocumentData } from './schema.js';

/** What a bid says, sealed until the tender deadline. */
export interface BidContent {
  price: number;
  proposal: string;
  documents: DocumentData[];
}

/** The facts a sealed bid is bound to (its AAD): a ciphertext cannot be moved to another row. */
export interface BidBinding {
  bidId: string;
  projectId: string;
  lotId: string;
  supplierId: string;
}

const SALT = Buffer.from('diandan-procurement-sealing-v1');
const VERSION = 'v1';

/**
 * Seals bids with AES-256-GCM under a per-tender data key derived with HKDF-SHA256 from
 * the deployment's sealing secret and the tender (project) id. The plaintext carries a
 * random nonce, so the SHA-256 commitment handed to the bidder reveals nothing about a
 * low-entropy price. Who decides *when* a bid may be opened is the service (DB clock).
 */
export class BidSealer {
  private readonly secret: Buffer;

  constructor(secret: string) {
    this.secret = Buffer.from(secret, 'utf8');
  }

  private keyFor(projectId: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.secret, SALT, `tender:${projectId}`, 32));
  }

  /** Encrypts `content`; returns the stored text (`v1.<iv>.<tag>.<ciphertext>`, base64url), the commitment and the nonce. */
  seal(binding: BidBinding, content: BidContent): { sealed: string; commitment: string } {
    const nonce = randomBytes(16).toString('base64url');
    const plaintext = Buffer.from(JSON.stringify({ ...content, nonce }), 'utf8');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keyFor(binding.projectId), iv);
    cipher.setAAD(aad(binding));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    const sealed = [VERSION, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
    return { sealed, commitment: commitmentOf(binding, content, nonce) };
  }

  /** Decrypts a sealed bid; a tampered or misplaced ciphertext fails authentication. */
  unseal(binding: BidBinding, sealed: string): BidContent & { nonce: string } {
    return this.decrypt(this.keyFor(binding.projectId), binding, sealed);
  }

  /**
   * Decrypts every bid of one tender (the opening): the tender key is derived once, not
   * once per bid; it lives only for this call.
   */
  unsealTender(projectId: string, items: readonly { binding: BidBinding; sealed: string }[]): (BidContent & { nonce: string })[] {
    const key = this.keyFor(projectId);
    try {
      return items.map(({ binding, sealed }) => {
        if (binding.projectId !== projectId) throw tampered(binding.bidId);
        return this.decrypt(key, binding, sealed);
      });
    } finally {
      key.fill(0);
    }
  }

  private decrypt(key: Buffer, binding: BidBinding, sealed: string): BidContent & { nonce: string } {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || ciphertext === undefined) throw tampered(binding.bidId);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(aad(binding));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
      return JSON.parse(plaintext.toString('utf8')) as BidContent & { nonce: string };
    } catch {
      throw tampered(binding.bidId);
    }
  }
}

/** SHA-256 over the bid's binding, content and nonce, in a fixed key order: anyone can recompute it after the opening. */
export function commitmentOf(binding: BidBinding, content: BidContent, nonce: string): string {
  const canonical = JSON.stringify([binding.bidId, binding.projectId, binding.lotId, binding.supplierId, content.price, content.proposal, content.documents, nonce]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

function aad(b: BidBinding): Buffer {
  return Buffer.from(`${b.projectId}|${b.lotId}|${b.supplierId}|${b.bidId}`, 'utf8');
}

function tampered(bidId: string): DomainError {
  return new DomainError('conflict', 'PROCUREMENT_BID_TAMPERED', `Bid ${bidId} cannot be unsealed: its ciphertext fails authentication`);
}

/** The development default; a production start-up without a configured key fails. */
export const DEVELOPMENT_SEALING_KEY = 'diandan-procurement-development-sealing-key-not-for-production';
