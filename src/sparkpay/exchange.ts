import type * as v from "valibot";
import { DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS } from "./constants";
import { SparkPayError } from "./errors";
import { readResponse } from "./response-reader";
import { attemptTimeoutMs, fallbackKey, hasTimeForAttempt, retryDelayMs, signatureAccepted } from "./retry-policy";
import { type RequestContext, type SparkPayRequest, SparkPayTransport, type TransportOptions } from "./transport";
import type { ResponseValidator } from "./validator";

export interface ExchangeOptions extends TransportOptions {
  /** Checks response signatures; ACCEPT_UNVERIFIED turns verification off. */
  validator: ResponseValidator;
  /** Per attempt. */
  timeoutMs?: number;
  /** Retries after the first attempt, for network errors, timeouts and 500/502/503/504 only. */
  maxRetries?: number;
  /** Injected so tests control randomness and waiting (the clock, fetch and nonces go to the transport). */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What an operation learnt on the way, whatever its outcome: SparkPay's id of its last answer. */
export interface Trace {
  sparkpayRequestId?: string;
}

/** One operation in flight: the request, its deadline, its caller's context and what it has learnt so far. */
export interface Operation {
  request: SparkPayRequest;
  deadline: number;
  context: RequestContext;
  trace: Trace;
  /** Retries for this operation, when not the exchange's own (0: an operation SparkPay may not do twice). */
  maxRetries?: number;
}

/** Runs `operation`; a SparkPayError leaves carrying the last answer's id (see SparkPayError.sparkpayRequestId). */
export async function traced<T>(trace: Trace, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof SparkPayError) error.sparkpayRequestId = trace.sparkpayRequestId;
    throw error;
  }
}

/**
 * One operation's exchange with SparkPay, until a valid answer: retries with backoff under the operation's deadline,
 * and the next-merchant-key fallback. The wire is SparkPayTransport's; judging an answer is readResponse's; the
 * rules are retry-policy's pure functions.
 */
export class SparkPayExchange {
  private readonly transport: SparkPayTransport;
  private readonly validator: ResponseValidator;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly keyCount: number;
  /** The merchant key to sign with: the one SparkPay last accepted (the first until then). */
  private signingKey = 0;
  private lastAcceptedKey: number | undefined;

  constructor(options: ExchangeOptions) {
    this.transport = new SparkPayTransport(options);
    this.validator = options.validator;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.keyCount = options.signer.keyCount;
  }

  /**
   * Runs the operation until it succeeds, fails in a way that is not safe to repeat, runs out of
   * retries, or would overrun the deadline; backs off with full jitter in between. The error
   * thrown is the last real one, made by the attempt it ended on.
   */
  async withRetries<T extends v.GenericSchema<unknown, { data: unknown }>>(
    operation: Operation,
    schema: T,
    /** Throws when a valid answer still does not mean success for this operation. */
    accept: (data: v.InferOutput<T>["data"], attempt: number) => void,
  ): Promise<{ value: v.InferOutput<T>; attempts: number }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const value = await this.attempt(operation, attempt, schema);
        accept(value.data, attempt);
        return { value, attempts: attempt };
      } catch (error) {
        const { random } = this;
        const maxRetries = operation.maxRetries ?? this.maxRetries;
        const delay = retryDelayMs({
          error,
          attempt,
          maxRetries,
          nowMs: this.now(),
          deadlineMs: operation.deadline,
          random,
        });
        if (delay === undefined) throw error;
        await this.sleep(delay);
      }
    }
  }

  /**
   * One attempt: send, then read. When SparkPay rejects the signature (40000) and another merchant
   * key is configured, SparkPay may have switched keys (forwards in a rotation, or back): re-sign
   * with the other key (safe: a rejected signature means SparkPay did nothing), within the
   * deadline. Whichever key SparkPay accepts is the one used from then on; a rejected key is never
   * kept.
   */
  private async attempt<T extends v.GenericSchema>(
    { request, deadline, context, trace }: Operation,
    attempt: number,
    schema: T,
  ): Promise<v.InferOutput<T>> {
    const exchange = async (key: number) => {
      const timeoutMs = attemptTimeoutMs(this.timeoutMs, this.now(), deadline);
      const response = await this.transport.send(request, { attempt, key, timeoutMs, context });
      trace.sparkpayRequestId = response.sparkpayRequestId ?? trace.sparkpayRequestId;
      try {
        const value = await readResponse(response, schema, this.validator, this.now());
        this.keyAccepted(key);
        return value;
      } catch (error) {
        if (signatureAccepted(error)) this.keyAccepted(key);
        throw error;
      }
    };
    try {
      return await exchange(this.signingKey);
    } catch (error) {
      const other = fallbackKey(this.signingKey, this.keyCount, error);
      if (other === undefined || !hasTimeForAttempt(this.now(), deadline)) throw error;
      return await exchange(other);
    }
  }

  private keyAccepted(key: number): void {
    this.signingKey = key;
    this.lastAcceptedKey = key;
  }

  /** Which merchant key (1-based) SparkPay last accepted a signature from; undefined until it has. */
  get acceptedKey(): number | undefined {
    return this.lastAcceptedKey === undefined ? undefined : this.lastAcceptedKey + 1;
  }
}
