// What the procurement bench server (bench/server.mjs) seeds and the drivers need to know about it.
import { signDevelopmentToken } from '@diandan/kernel';

/** The bench deployment's token secret and sealing key (development values, never a real deployment's). */
export const BENCH_SECRET = 'bench-secret-0123456789abcdefghijklmnop';
export const BENCH_SEALING_KEY = 'bench-sealing-key-0123456789abcdefghijklmnop';
/** The buyer unit's id and region (seeded with this id). */
export const BUYER_UNIT = '00000000-0000-4000-8000-0000000b0001';
export const BUYER_REGION = '440103001';

/** A bearer token of the bench deployment. */
export const bearer = async (claims) => `Bearer ${await signDevelopmentToken(BENCH_SECRET, claims)}`;
export const adminToken = () => bearer({ sub: 'bench-admin', roles: ['district-admin'], region: '440103' });
export const supplierToken = (id) => bearer({ sub: `bench-user-${id}`, roles: ['supplier'], region: '440100', supplier: id });

/** A bid body: a price, a ~2 KB quality proposal and two documents. */
export const bidBody = (lotId, price) => ({
  lotId,
  price,
  proposal: `技术方案（虚构）：${'演出团队二十人，含乐队与舞美；每场九十分钟，演后互动。'.repeat(40)}`,
  documents: [
    { id: 'D1', documentType: 'technicalProposal', title: '技术方案', url: 'https://example.org/proposal.pdf' },
    { id: 'D2', documentType: 'biddingDocuments', title: '报价单', url: 'https://example.org/price.pdf' },
  ],
});

/** A project body (one lot per `lots`), periods ending at `end`. */
export const projectBody = (title, end, lots = 1) => ({
  buyerUnitId: BUYER_UNIT,
  method: 'open-tender',
  title,
  description: '为街道各社区采购粤剧巡演服务（基准测试数据，虚构）',
  category: 'performance',
  estimate: 100_000 * lots,
  lots: Array.from({ length: lots }, (_, i) => ({ id: `L${i + 1}`, title: `第${i + 1}包 粤剧巡演`, value: 100_000 })),
  items: Array.from({ length: lots }, (_, i) => ({ id: `I${i + 1}`, description: '粤剧折子戏专场', category: 'performance', quantity: 10, unit: '场', relatedLot: `L${i + 1}` })),
  documents: [{ id: 'D1', documentType: 'tenderNotice', title: '招标公告', url: 'https://example.org/notice.pdf' }],
  panel: ['expert-a', 'expert-b'],
  priceWeight: 60,
  qualityWeight: 40,
  enquiryPeriodEnd: end.toISOString(),
  tenderPeriodEnd: end.toISOString(),
});

/** Sends a request to the bench server and returns the parsed answer; throws with the body unless the status is `expect`. */
export async function call(base, method, path, { auth, body, headers = {}, expect = [200, 201] } = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...(body ? { 'content-type': 'application/json' } : {}), ...(method === 'POST' ? { 'idempotency-key': crypto.randomUUID() } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (![expect].flat().includes(res.status)) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return { body: text ? JSON.parse(text) : undefined, etag: res.headers.get('etag') };
}
