import {
  defaultResource,
  detectResources,
  hostDetector,
  osDetector,
  processDetector,
  resourceFromAttributes,
  type Resource,
  type ResourceDetector,
} from '@opentelemetry/resources';
import type { SdkConfig } from '../config/types.js';
import { containerDetector } from '../resource/container.js';
import { serviceInstanceDetector } from '../resource/service-instance.js';
import { VERSION } from '../semconv.js';

export function buildResource(config: SdkConfig): Resource {
  const detectors: ResourceDetector[] = [];
  for (const name of config.resourceDetectors) {
    if (name === 'host') detectors.push(hostDetector);
    else if (name === 'os') detectors.push(osDetector);
    else if (name === 'process') detectors.push(processDetector);
    else if (name === 'serviceinstance') detectors.push(serviceInstanceDetector);
    else if (name === 'container') detectors.push(containerDetector);
    // 'env': OTEL_RESOURCE_ATTRIBUTES is already parsed into config.resourceAttributes.
  }
  const resource = defaultResource()
    .merge(detectors.length > 0 ? detectResources({ detectors }) : null)
    .merge(
      resourceFromAttributes({
        ...config.resourceAttributes,
        'service.name': config.serviceName,
        'telemetry.distro.name': 'healthspan',
        'telemetry.distro.version': VERSION,
      }),
    );
  // Asynchronous detector results (host.id) are merged only once someone waits for them;
  // start that now so a scrape a few milliseconds after start-up sees a settled resource.
  resource.waitForAsyncAttributes?.().catch(() => {});
  return resource;
}
