// Orchflow on Azure: a Function App on the Flex Consumption plan with a user-assigned managed
// identity, one Storage account (host, durable backend, run projection), Key Vault, Log Analytics
// and Application Insights, and optionally a Durable Task Scheduler. No keys or connection strings
// with secrets: every data-plane access is a role granted to the identity. `azd up` deploys it.

targetScope = 'subscription'

@description('Name of the azd environment; names and tags every resource.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Region of every resource; it must offer the Flex Consumption plan.')
@minLength(1)
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group to create or update; defaults to rg-<environmentName>.')
param resourceGroupName string = ''

@description('Object id of whoever deploys (azd sets it), given Key Vault Secrets Officer to set the app\'s secrets; empty to grant nobody.')
param deployerPrincipalId string = ''

@description('Durable backend: AzureStorage (queues and tables in the app\'s Storage account) or DurableTaskScheduler (managed, higher throughput).')
@allowed([
  'AzureStorage'
  'DurableTaskScheduler'
])
param durableBackend string = 'AzureStorage'

@description('SKU of the Durable Task Scheduler, when it is the backend.')
@allowed([
  'Consumption'
  'Dedicated'
])
param durableTaskSchedulerSku string = 'Consumption'

@description('Control-queue partitions of the Azure Storage task hub: at most this many instances run orchestrations at once. Fixed when the task hub is created.')
@minValue(1)
@maxValue(16)
param partitionCount int = 4

@description('Most instances the Flex Consumption plan scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Instances kept warm for HTTP and for durable triggers each (billed while idle); 0 for none.')
@minValue(0)
param alwaysReadyInstances int = 0

@description('Prefix of every table name of the run projection.')
param tablePrefix string = 'orchflow'

@description('Managed trial runs per new account.')
@minValue(0)
param trialRuns int = 5

@description('Provider of the managed (trial) model; empty for the built-in simulated model. Its key is the Key Vault secret managed-model-api-key.')
@allowed([
  ''
  'openai'
  'azure_openai'
  'gemini'
  'anthropic'
  'openai_compatible'
])
param managedModelProvider string = ''

@description('Model, or deployment name for azure_openai, of the managed model.')
param managedModelName string = ''

@description('Endpoint of the managed model, for azure_openai and openai_compatible.')
param managedModelEndpoint string = ''

@description('Origins of web pages on other sites that may call the API from the browser, comma-separated (https://app.example.com,https://admin.example.com); empty for none. The console at /console is same-origin and needs none.')
param corsAllowedOrigins string = ''

// The task hub of host.json; the scheduler's hub and the app setting use the same name.
var taskHubName = 'orchflow'
var useScheduler = durableBackend == 'DurableTaskScheduler'
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-orchflow-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-orchflow-${resourceToken}'
    applicationInsightsName: 'appi-orchflow-${resourceToken}'
    location: location
    tags: tags
    publisherPrincipalId: identity.outputs.principalId
  }
}

var deploymentContainerName = 'app-package'

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    dataPrincipalId: identity.outputs.principalId
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'keyVault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    deployerPrincipalId: deployerPrincipalId
  }
}

module scheduler 'modules/durable-task-scheduler.bicep' = if (useScheduler) {
  name: 'durableTaskScheduler'
  scope: rg
  params: {
    name: 'dts-orchflow-${resourceToken}'
    location: location
    tags: tags
    taskHubName: taskHubName
    skuName: durableTaskSchedulerSku
    workerPrincipalId: identity.outputs.principalId
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'functionApp'
  scope: rg
  params: {
    name: 'func-orchflow-${resourceToken}'
    planName: 'plan-orchflow-${resourceToken}'
    location: location
    tags: tags
    identityName: identity.outputs.name
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    taskHubName: taskHubName
    partitionCount: partitionCount
    durableTaskSchedulerEndpoint: useScheduler ? scheduler!.outputs.endpoint : ''
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    alwaysReadyInstances: alwaysReadyInstances
    tablePrefix: tablePrefix
    trialRuns: trialRuns
    managedModelProvider: managedModelProvider
    managedModelName: managedModelName
    managedModelEndpoint: managedModelEndpoint
    corsAllowedOrigins: empty(corsAllowedOrigins) ? [] : map(split(corsAllowedOrigins, ','), origin => trim(origin))
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output ORCHFLOW_DURABLE_BACKEND string = durableBackend
@description('Base URL of the Orchflow API.')
output ORCHFLOW_API_BASE_URL string = 'https://${functionApp.outputs.defaultHostName}/api/v1'
