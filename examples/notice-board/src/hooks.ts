import { createGuard, createHook } from '@diandan/kernel';
import type { Notice } from './service.js';

/** Published with the transaction that posted a notice (公告发布). */
export const noticePosted = createHook<Notice>('notice-board.posted');

/** Runs before a notice is written: a region plugin may refuse it with its own problem code. */
export const noticeGuard = createGuard<{ readonly regionCode: string; readonly body: string }>('notice-board.post');
