import { defineService } from '@trellis/platform';
import { EndpointServiceDesc, GRPCInferenceServiceDesc } from '@trellis/proto';
import { EndpointEntity, RevisionEntity } from './endpoints/endpoint.entity';
import { CreateServingTables1796456739312 } from './migrations/1796456739312-create-serving-tables';
import { servingConfig } from './serving.config';
import { ServingModule } from './serving.module';

/** The serving service: endpoints of each project, registry versions deployed behind them as revisions, and their traffic. */
export const servingService = defineService({
  name: 'serving',
  description: 'Serves registry versions behind endpoints, with revisions and traffic splits',
  defaultPort: 50057,
  config: servingConfig,
  module: ServingModule,
  grpcServices: [EndpointServiceDesc, GRPCInferenceServiceDesc],
  calls: ['registry'],
  // Every replica fetches the files of the revisions it serves from the registry, at start too.
  identity: { purpose: "fetches revisions' model files from the registry, on behalf of whoever deployed them" },
  plugins: {
    runtime: {
      purpose: "runs revisions' models: each runtime instance is one a revision can name",
      optional: true,
      // ONNX models, when runtime-onnx is in the program: `npm start` serves them out of the box.
      defaults: { onnx: { plugin: 'runtime-onnx', config: async () => ({}) } },
    },
  },
  entities: [EndpointEntity, RevisionEntity],
  migrations: [CreateServingTables1796456739312],
});
