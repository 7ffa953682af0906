/** @diandan/notice-board — notices for the residents of a region (公告). */
export { noticeBoard, noticeBoardPlugin } from './plugin.js';
export { noticeGuard, noticePosted } from './hooks.js';
export { NoticeService, type Notice } from './service.js';
export { NoticeSchema } from './routes/notices.js';
