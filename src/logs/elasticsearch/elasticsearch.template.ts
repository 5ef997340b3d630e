/**
 * Version of the index template below. Raise it with every change: prepare()
 * leaves a template of this or a higher version alone, so an older replica
 * never downgrades what a newer one installed.
 */
export const TEMPLATE_VERSION = 1;

/**
 * The composable index template of Vigil's daily log indices, with the
 * original design's mapping. `attributes` is `flattened`: callers send
 * free-form attributes whose value types differ from one service to the next,
 * and dynamic mapping would reject (dead-letter) every log whose attribute type
 * disagrees with the first one seen that day.
 */
export function indexTemplate(indexPrefix: string) {
  return {
    index_patterns: [`${indexPrefix}-*`],
    // Above the built-in templates (100), so ours wins for these indices.
    priority: 200,
    version: TEMPLATE_VERSION,
    _meta: { description: 'Vigil log indices <prefix>-YYYY.MM.DD', managed_by: 'vigil' },
    template: {
      mappings: {
        properties: {
          '@timestamp': { type: 'date' as const },
          message: { type: 'text' as const },
          level: { type: 'keyword' as const },
          service: { type: 'keyword' as const },
          environment: { type: 'keyword' as const },
          user_id: { type: 'keyword' as const },
          request_id: { type: 'keyword' as const },
          trace_id: { type: 'keyword' as const },
          duration_ms: { type: 'float' as const },
          attributes: { type: 'flattened' as const },
        },
      },
    },
  };
}
