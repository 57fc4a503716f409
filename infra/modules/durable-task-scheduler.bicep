// Durable Task Scheduler with one task hub: the managed durable backend, chosen instead of Azure
// Storage for higher orchestration throughput. Access is by Microsoft Entra identity only.

param name string
param location string
param tags object

@description('Task hub name; the Functions host uses the same name.')
param taskHubName string

@description('Consumption bills per action; Dedicated reserves capacity for steady, high throughput.')
@allowed([
  'Consumption'
  'Dedicated'
])
param skuName string = 'Consumption'

@description('Principal that runs and manages orchestrations on the task hub (the app identity).')
param workerPrincipalId string

import { roleIds } from 'roles.bicep'

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    sku: skuName == 'Dedicated'
      ? {
          name: 'Dedicated'
          capacity: 1
        }
      : {
          name: 'Consumption'
        }
    // An empty list denies all traffic; callers are authenticated with Microsoft Entra ID.
    ipAllowlist: [
      '0.0.0.0/0'
    ]
  }

  resource taskHub 'taskHubs' = {
    name: taskHubName
  }
}

// Data Contributor rather than Worker: the app also starts, queries, raises events to and
// terminates orchestrations, which the Worker role does not allow. Scoped to the one task hub.
resource worker 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(scheduler::taskHub.id, workerPrincipalId, roleIds.durableTaskDataContributor)
  scope: scheduler::taskHub
  properties: {
    principalId: workerPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roleIds.durableTaskDataContributor
    )
  }
}

output endpoint string = scheduler.properties.endpoint
