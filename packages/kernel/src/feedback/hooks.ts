import { createHook } from '../hooks.js';

/** A citizen gave feedback on a delivery. */
export const feedbackReceived = createHook<{ readonly orderId: string; readonly rating: number }>('feedback.received');
