import type { CallerKey } from "./caller-keys";
import { CloseRepair } from "./closes/repair";
import { RoundSlots } from "./closes/round-slots";
import { CloseScheduler } from "./closes/scheduler";
import type { GatewayEnv } from "./env";
import { Logger } from "./log";
import { OrderCreator } from "./orders/creator";
import { ALL_BINDINGS, type BindingName, type RateLimiterBinding, requireBinding } from "./settings/bindings";
import { firstProblem, type LoadedSettings, loadSettings, type Settings, type SettingsReport } from "./settings/report";
import {
  DEFAULT_GIVE_UP_AFTER_S,
  DEFAULT_RECHECK_AFTER_S,
  DEFAULT_REPAIR_STALLED_S,
  DEFAULT_ROUNDS_AT_ONCE,
} from "./settings/schema";
import { notifyUrlFor } from "./settings/urls";
import type { WebhookSettings } from "./settings/webhooks";
import { SparkPayClient } from "./sparkpay/client";
import { ConfigError } from "./sparkpay/errors";
import { NotificationOpener } from "./sparkpay/notification";
import { createOaepDecrypters } from "./sparkpay/oaep-decrypter";
import { createSigner } from "./sparkpay/signer";
import { ACCEPT_UNVERIFIED, createResponseValidator } from "./sparkpay/validator";
import { createVerifier } from "./sparkpay/verifier";
import { USER_AGENT } from "./version";

type Bound = { [N in BindingName]?: ReturnType<typeof requireBinding<N>> };

/**
 * The composition root: the settings and their report, the SparkPay client, the caller keys, the limiters, the
 * close jobs and the logger, built once per env object per isolate from the Worker's bindings. The app (through
 * middleware/services.ts) and the close Workflow both get theirs from servicesFor(env); nothing below them reads env.
 * Whatever a setting stops throws the ConfigError naming it (a 503), so a route fails only for what it needs.
 */
export class Services {
  readonly report: SettingsReport;
  readonly logger: Logger;
  /** Whether /docs and /docs/errors are served and error answers carry doc_url (API_DOCS). */
  readonly docsEnabled: boolean;
  /** How long a close job keeps trying after its close_at (CLOSE_GIVE_UP_AFTER_S). */
  readonly giveUpAfterS: number;
  /** How long after a job ends closed it checks the order again, 0 for never (CLOSE_RECHECK_AFTER_S). */
  readonly recheckAfterS: number;
  /** How many durable close rounds run against SparkPay at once, 0 for no cap (CLOSE_ROUNDS_AT_ONCE). */
  readonly roundsAtOnce: number;
  /** How late a live job is before the repair replaces an instance that says it runs (CLOSE_REPAIR_STALLED_S). */
  readonly repairStalledS: number;
  private readonly loaded: LoadedSettings;
  /** One per settings: it remembers which merchant key SparkPay accepts, so it must outlive a request. */
  private readonly client: SparkPayClient | undefined;
  private readonly bound: Bound = {};
  private readonly unbound = new Map<BindingName, ConfigError>();
  private scheduler: CloseScheduler | undefined;
  private slots: RoundSlots | undefined;
  private opener: Promise<NotificationOpener> | undefined;
  private creator: OrderCreator | undefined;

  constructor(loaded: LoadedSettings, env: GatewayEnv) {
    this.loaded = loaded;
    this.report = loaded.report;
    this.logger = new Logger(loaded.logLevel);
    this.docsEnabled = loaded.docsEnabled;
    this.giveUpAfterS = loaded.settings?.CLOSE_GIVE_UP_AFTER_S ?? DEFAULT_GIVE_UP_AFTER_S;
    this.recheckAfterS = loaded.settings?.CLOSE_RECHECK_AFTER_S ?? DEFAULT_RECHECK_AFTER_S;
    this.roundsAtOnce = loaded.settings?.CLOSE_ROUNDS_AT_ONCE ?? DEFAULT_ROUNDS_AT_ONCE;
    this.repairStalledS = loaded.settings?.CLOSE_REPAIR_STALLED_S ?? DEFAULT_REPAIR_STALLED_S;
    this.client = loaded.settings && createClient(loaded.settings);
    for (const name of ALL_BINDINGS) {
      try {
        (this.bound as Record<string, unknown>)[name] = requireBinding(env, name);
      } catch (error) {
        this.unbound.set(name, error as ConfigError);
      }
    }
  }

  /** The settings the close route runs with, or the ConfigError naming the first problem that stops it. */
  settings(): Settings {
    const { settings } = this.loaded;
    if (!settings) throw new ConfigError(firstProblem(this.report));
    return settings;
  }

  sparkpay(): SparkPayClient {
    if (!this.client) throw new ConfigError(firstProblem(this.report));
    return this.client;
  }

  /** The caller keys, whenever GATEWAY_API_KEYS is usable (callers hear 401 even while another setting is broken). */
  callerKeys(): readonly CallerKey[] {
    const keys = this.loaded.callerKeys;
    if (keys) return keys;
    const check = this.report.checks.GATEWAY_API_KEYS;
    throw new ConfigError(check?.status === "problem" ? check.message : firstProblem(this.report));
  }

  limiter(name: RateLimiterBinding): RateLimit {
    return this.binding(name);
  }

  closeJobsDb(): D1Database {
    return this.binding("CLOSE_JOBS_DB");
  }

  closeScheduler(): CloseScheduler {
    this.scheduler ??= new CloseScheduler({
      db: this.binding("CLOSE_JOBS_DB"),
      workflow: this.binding("CLOSE_WORKFLOW"),
      logger: this.logger,
    });
    return this.scheduler;
  }

  /** The Cron Trigger's repair of stuck close jobs (src/scheduled.ts). */
  closeRepair(): CloseRepair {
    return new CloseRepair({
      db: this.binding("CLOSE_JOBS_DB"),
      workflow: this.binding("CLOSE_WORKFLOW"),
      logger: this.logger,
      stalledS: this.repairStalledS,
    });
  }

  /** The durable close rounds' slots at the gate (src/closes/round-gate.ts). */
  roundSlots(): RoundSlots {
    this.slots ??= new RoundSlots(
      this.roundsAtOnce === 0 ? undefined : this.binding("CLOSE_ROUND_GATE"),
      this.roundsAtOnce,
    );
    return this.slots;
  }

  /**
   * What opens SparkPay's notifications: the merchant key(s) decrypt, the platform key(s) verify. Without platform
   * keys (SPARKPAY_VERIFY_RESPONSES off) nothing can be verified, so nothing is received.
   */
  notificationOpener(): Promise<NotificationOpener> {
    const settings = this.settings();
    if (!settings.platformKeys) {
      throw new ConfigError(
        "Notifications cannot be verified while SPARKPAY_VERIFY_RESPONSES is off; set it to `required` and set " +
          "SPARKPAY_PLATFORM_PUBLIC_KEY.",
      );
    }
    const verifier = createVerifier(settings.platformKeys);
    this.opener ??= createOaepDecrypters(settings.privateKeysDer, settings.SPARKPAY_NOTIFY_OAEP_MGF1).then(
      (decrypters) => new NotificationOpener(decrypters, verifier),
    );
    this.opener.catch(() => {
      this.opener = undefined; // a failed build is not kept
    });
    return this.opener;
  }

  /** The Workflow that confirms each verified notification (src/notifications/workflow.ts). */
  notifyWorkflow(): Workflow {
    return this.binding("NOTIFY_WORKFLOW");
  }

  /**
   * Order creation (POST /v4/pay/cashier and the Pro route): the record in D1 makes it idempotent, and every order's
   * notify_url is the gateway's receiver, so GATEWAY_PUBLIC_URL must be set.
   */
  orderCreator(): OrderCreator {
    if (this.creator) return this.creator;
    const settings = this.settings();
    const notifyUrl = notifyUrlFor(settings.GATEWAY_PUBLIC_URL);
    if (!notifyUrl) {
      throw new ConfigError(
        "Orders are created with notify_url set to the gateway's own receiver, which needs GATEWAY_PUBLIC_URL (the " +
          "gateway's public https URL); set it to create orders.",
      );
    }
    this.creator = new OrderCreator({
      db: this.binding("CLOSE_JOBS_DB"),
      client: this.sparkpay(),
      scheduler: () => this.closeScheduler(),
      notifyUrl,
      // A claim is renewed as SparkPay is asked: past SparkPay's whole deadline after that, its request is gone.
      claimStaleAfterS: Math.ceil(settings.SPARKPAY_DEADLINE_MS / 1000) + 10,
      onRecordFailed: (order, error) =>
        this.logger.error({
          msg: "order created, its record not written",
          ...order,
          error: error instanceof Error ? error.message : typeof error,
        }),
    });
    return this.creator;
  }

  /** Where the close webhooks go (undefined: CLOSE_WEBHOOK_URL unset), or the ConfigError naming what is wrong. */
  webhooks(): WebhookSettings | undefined {
    const { settings, error } = this.loaded.webhooks;
    if (error) throw error;
    return settings;
  }

  private binding<N extends BindingName>(name: N): NonNullable<Bound[N]> {
    const found = this.bound[name];
    if (found) return found as NonNullable<Bound[N]>;
    throw this.unbound.get(name) ?? new ConfigError(`${name} is not bound.`);
  }
}

function createClient(settings: Settings): SparkPayClient {
  return new SparkPayClient({
    appId: settings.SPARKPAY_APP_ID,
    baseUrl: settings.SPARKPAY_BASE_URL,
    timeoutMs: settings.SPARKPAY_TIMEOUT_MS,
    maxRetries: settings.SPARKPAY_MAX_RETRIES,
    deadlineMs: settings.SPARKPAY_DEADLINE_MS,
    confirmCloses: settings.SPARKPAY_CONFIRM_CLOSES,
    maxResponseBytes: settings.SPARKPAY_MAX_RESPONSE_BYTES,
    userAgent: USER_AGENT,
    signer: createSigner(settings.privateKeys),
    validator: settings.platformKeys
      ? createResponseValidator(createVerifier(settings.platformKeys))
      : ACCEPT_UNVERIFIED,
  });
}

// One per env object per isolate (the resolved result, never an in-flight promise: a failed build is not kept).
const built = new WeakMap<GatewayEnv, Services>();

export async function servicesFor(env: GatewayEnv): Promise<Services> {
  const cached = built.get(env);
  if (cached) return cached;
  const services = new Services(await loadSettings(env), env);
  const raced = built.get(env); // another request built them meanwhile: keep one set (one client, one key memory)
  if (raced) return raced;
  built.set(env, services);
  const problems = Object.fromEntries(
    Object.entries(services.report.checks).flatMap(([name, check]) =>
      check.status === "problem" || check.status === "warning" ? [[name, check.message]] : [],
    ),
  );
  // Once per isolate: the messages name settings and problems, never values.
  if (Object.keys(problems).length > 0) services.logger.error({ msg: "configuration problem", problems });
  return services;
}
