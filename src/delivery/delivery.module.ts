import { Global, Module } from '@nestjs/common';
import { DestinationRegistry } from './destination-registry.js';

@Global()
@Module({ providers: [DestinationRegistry], exports: [DestinationRegistry] })
export class DeliveryModule {}
