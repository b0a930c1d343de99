// @schedule → a CronWorkflow that submits the flow's WorkflowTemplate (the schedule itself, checked:
// flow/schedule.ts).
import type { Schedule } from '../../flow/schedule.js';
import { ARGO_GROUP, ARGO_VERSION } from './template.js';

/** The CronWorkflow beside a template: submits it on the schedule (runs may overlap, as in Metaflow). */
export function buildCronWorkflow(template: any, schedule: Schedule): any {
  return {
    apiVersion: `${ARGO_GROUP}/${ARGO_VERSION}`,
    kind: 'CronWorkflow',
    metadata: { name: template.metadata.name, namespace: template.metadata.namespace, labels: template.metadata.labels, annotations: template.metadata.annotations },
    spec: {
      schedules: [schedule.cron],
      ...(schedule.timezone ? { timezone: schedule.timezone } : {}),
      concurrencyPolicy: 'Allow',
      workflowMetadata: { labels: template.metadata.labels },
      workflowSpec: { workflowTemplateRef: { name: template.metadata.name } },
    },
  };
}
