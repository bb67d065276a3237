/**
 * When src/ is type-checked for the Node-side tools (tsconfig.node.json), the Workers runtime types
 * are absent; this declares the one binding type the generated Env uses.
 */
interface RateLimit {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}
