import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { AlertWindows, WindowReport } from '../../shared/alertWindows.ts';
import type { NormalizedEvent } from '../../shared/contract/eventContract.ts';
import { errorField, log } from '../../shared/log.ts';
import { METRIC, type MetricSet } from '../../shared/metrics.ts';

/** What an operator receives: ids, types, counts and times only, never a value from a payload. */
export interface AlertMessage {
  provider: string;
  type: string;
  outcome: string;
  /** Events this alert reports (not reported by an earlier alert of the window). */
  count: number;
  /** Events of the window so far, this alert's included. */
  countInWindow: number;
  windowStart: string;
  windowEnd: string;
  /** `opening`: the window's first event(s), sent at once; `closing`: the rest, once the window ended. */
  kind: 'opening' | 'closing';
  exampleEventIds: string[];
}

export interface OperatorAlertsOptions {
  windows: AlertWindows;
  sns: SNSClient;
  topicArn: string;
}

/**
 * Operator alerts for events that need attention, aggregated per (provider, type, outcome) and window:
 * the first event of a window is alerted at once (the opening alert); every later one is counted and
 * reported by one closing alert when the flush (scheduled every minute) finds the window ended. So an
 * incident of 200 failures in one window is two alerts that together count 200.
 *
 * Never lost: the count is durable before anything is sent, and a window leaves the flush's open set
 * only once everything counted in it was reported. Exactly once per window, also across handler
 * retries, except when the function dies between SNS accepting an alert and recording it as sent:
 * that alert is sent again once its lease runs out (SNS standard topics cannot deduplicate).
 */
export function makeOperatorAlerts({ windows, sns, topicArn }: OperatorAlertsOptions) {
  /** Windows this container already tried to open: later events of the window only count. */
  const openingTried = new Set<string>();

  async function send(report: WindowReport, metrics: MetricSet): Promise<void> {
    const message: AlertMessage = {
      provider: report.provider,
      type: report.type,
      outcome: report.outcome,
      count: report.count,
      countInWindow: report.total,
      windowStart: report.windowStart.toISOString(),
      windowEnd: report.windowEnd.toISOString(),
      kind: report.closed ? 'closing' : 'opening',
      exampleEventIds: report.exampleIds,
    };
    const what = report.closed ? `${report.count} more in the window` : `${report.count}`;
    await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: `Webhook ${report.outcome}: ${report.type} (${what})`.slice(0, 100),
        Message: JSON.stringify(message),
      }),
    );
    metrics.add(METRIC.alertsSent);
    if (!(await windows.release(report))) {
      log.warn('alert sent after its lease ran out; it may have been sent twice', { pk: report.key });
    }
  }

  /**
   * Counts an event that needs attention into its window, and sends the window's opening alert if
   * nobody has. False when the event had been counted already (a redelivery or a retry).
   */
  async function onAttention(event: NormalizedEvent, now: Date, metrics: MetricSet): Promise<boolean> {
    const counted = await windows.count(event, now);
    if (!counted.counted) return false;
    if (openingTried.has(counted.key)) return true;
    openingTried.add(counted.key);
    if (openingTried.size > 1000) openingTried.clear();
    const report = await windows.claim(counted.key, now, true);
    if (!report) return true;
    try {
      await send(report, metrics);
    } catch (error) {
      // Counted, and the claim runs out: the closing alert of the window reports it. Not the event's failure.
      log.error('opening alert not sent; the window’s closing alert will report it', {
        pk: counted.key,
        error: errorField(error),
      });
    }
    return true;
  }

  /**
   * Closes every ended window and sends what it still owes. Throws after trying them all if any
   * failed, so the invocation counts as an error (alarmed) and the next flush tries again.
   */
  async function flush(now: Date, metrics: MetricSet): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    for (const key of await windows.endedWindows(now)) {
      try {
        if (await windows.close(key, now)) {
          const report = await windows.claim(key, now, false);
          if (report) {
            await send(report, metrics);
            sent += 1;
          }
          if (await windows.owes(key)) continue; // another sender holds it: the next flush
        }
        await windows.forget(key);
      } catch (error) {
        failed += 1;
        log.error('closing alert not sent; the next flush retries', {
          pk: key,
          error: errorField(error),
        });
      }
    }
    if (failed > 0) throw new Error(`${failed} alert windows could not be flushed`);
    return { sent, failed };
  }

  return { onAttention, flush };
}

export type OperatorAlerts = ReturnType<typeof makeOperatorAlerts>;
