import { createHook } from '../hooks.js';

/** What a citizen's feedback tells subscribers: which delivery, whose product, and the ratings (1–5). */
export interface FeedbackEvent {
  readonly orderId: string;
  readonly supplierId: string;
  readonly productId: string;
  readonly rating: number;
  readonly content: number | null;
  readonly performance: number | null;
  readonly organisation: number | null;
}

/** A citizen gave feedback on a delivery (published with the feedback's transaction). */
export const feedbackReceived = createHook<FeedbackEvent>('feedback.received');
