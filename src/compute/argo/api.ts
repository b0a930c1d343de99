// Argo's objects through the Kubernetes API (@kubernetes/client-node's CustomObjectsApi): the
// WorkflowTemplate and CronWorkflow are created or replaced, Workflows are submitted from the
// template and listed by the flow's label.
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { explainApiError, k8sApi, loadKubeConfig } from '../kubernetes/client.js';
import { ARGO_GROUP, ARGO_VERSION } from './template.js';

export type ArgoPlural = 'workflowtemplates' | 'cronworkflows' | 'workflows';

export class ArgoApi {
  private constructor(
    private api: CustomObjectsApi,
    readonly server: string,
  ) {}

  static async connect(): Promise<ArgoApi> {
    const k = await k8sApi();
    const kc = loadKubeConfig(k);
    return new ArgoApi(kc.makeApiClient(k.CustomObjectsApi), kc.getCurrentCluster()?.server ?? '?');
  }

  private at(plural: ArgoPlural, namespace: string) {
    return { group: ARGO_GROUP, version: ARGO_VERSION, plural, namespace };
  }

  /** Create the object, or replace the one of that name: 'created' | 'replaced'. */
  async apply(plural: ArgoPlural, body: any): Promise<'created' | 'replaced'> {
    const where = this.at(plural, body.metadata.namespace);
    const what = `${body.kind} ${body.metadata.namespace}/${body.metadata.name}`;
    try {
      await this.api.createNamespacedCustomObject({ ...where, body });
      return 'created';
    } catch (err: any) {
      if (err?.code !== 409) throw explainApiError(err, `cannot create ${what}`, this.server);
    }
    try {
      const current: any = await this.api.getNamespacedCustomObject({ ...where, name: body.metadata.name });
      const next = { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } };
      await this.api.replaceNamespacedCustomObject({ ...where, name: body.metadata.name, body: next });
      return 'replaced';
    } catch (err) {
      throw explainApiError(err, `cannot replace ${what}`, this.server);
    }
  }

  async get(plural: ArgoPlural, namespace: string, name: string): Promise<any | undefined> {
    try {
      return await this.api.getNamespacedCustomObject({ ...this.at(plural, namespace), name });
    } catch (err: any) {
      if (err?.code === 404) return undefined;
      throw explainApiError(err, `cannot read ${plural} ${namespace}/${name}`, this.server);
    }
  }

  /** Delete; false when there was nothing to delete. */
  async delete(plural: ArgoPlural, namespace: string, name: string): Promise<boolean> {
    try {
      await this.api.deleteNamespacedCustomObject({ ...this.at(plural, namespace), name });
      return true;
    } catch (err: any) {
      if (err?.code === 404) return false;
      throw explainApiError(err, `cannot delete ${plural} ${namespace}/${name}`, this.server);
    }
  }

  async create(plural: ArgoPlural, body: any): Promise<any> {
    try {
      return await this.api.createNamespacedCustomObject({ ...this.at(plural, body.metadata.namespace), body });
    } catch (err) {
      throw explainApiError(err, `cannot submit a ${body.kind} in ${body.metadata.namespace}`, this.server);
    }
  }

  async list(plural: ArgoPlural, namespace: string, labelSelector: string): Promise<any[]> {
    try {
      const r: any = await this.api.listNamespacedCustomObject({ ...this.at(plural, namespace), labelSelector });
      return r.items ?? [];
    } catch (err) {
      throw explainApiError(err, `cannot list ${plural} in ${namespace}`, this.server);
    }
  }
}
