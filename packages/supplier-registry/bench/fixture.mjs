// What the bench server (bench/server.mjs) seeds and the drivers need to know about it.
import { signDevelopmentToken } from '@diandan/kernel';

/** The bench deployments' token secret (development tokens, never a real deployment's). */
export const BENCH_SECRET = 'bench-secret-0123456789abcdefghijklmnop';
export const KINDS = ['troupe', 'enterprise', 'folk-institution'];
export const CATEGORIES = ['performance', 'lecture', 'exhibition', 'training'];
/** Regions served, in turn: a district, the other district, a street. */
export const SERVED = [['440103'], ['440104'], ['440103001']];
export const supplierName = (i) => `基准${['剧团', '文化传播有限公司', '书画社'][i % 3]}${i}（虚构）`;

/** A bearer token of the bench deployments. */
export const bearer = async (claims) => `Bearer ${await signDevelopmentToken(BENCH_SECRET, claims)}`;
