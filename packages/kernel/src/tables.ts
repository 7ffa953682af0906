/** The kernel's drizzle tables, for plugins' foreign keys and read queries. */
export { kernelSchema, regions, populationGroups, categories } from './core/schema.js';
export { auditLog } from './audit/schema.js';
export { units } from './units/schema.js';
export { venues } from './venues/schema.js';
export { suppliers } from './suppliers/schema.js';
export { products, productVersions } from './products/schema.js';
export { budgets } from './budgets/schema.js';
export { orders, deliveries } from './orders/schema.js';
export { feedback, feedbackTokens } from './feedback/schema.js';
export { jobs } from './jobs/schema.js';
export { files } from './files/schema.js';
