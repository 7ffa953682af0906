import { createHook } from '@diandan/kernel';
import type { Notice } from './service.js';

/** Emitted after a notice was posted (公告发布). */
export const noticePosted = createHook<Notice>('notice-board.posted');
