// Orchflow on Azure: a Function App on the Flex Consumption plan with a user-assigned managed
// identity, one Storage account (host, durable backend, run projection; with apiStorage 'separate',
// a second one for the API's tables), Key Vault, Log Analytics
// (diagnostic settings of the app, the vault and Storage) and Application Insights, and optionally a
// private network for Storage and Key Vault. No keys or connection strings with secrets: every
// data-plane access is a role granted to the identity. `azd up` deploys it.

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

@description('Durable backend. Only AzureStorage: the Durable Task Scheduler needs a worker extension this app does not reference yet, and choosing it fails the deployment with a message saying so.')
@allowed([
  'AzureStorage'
  'DurableTaskScheduler'
])
param durableBackend string = 'AzureStorage'

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

@description('Instances kept warm for HTTP functions (billed while idle); 0 for none.')
@minValue(0)
param alwaysReadyHttpInstances int = 0

@description('Instances kept warm for the durable functions (billed while idle): with none, a run idle for a while waits on a cold start before its next step.')
@minValue(0)
param alwaysReadyDurableInstances int = 1

@description('HTTP requests one instance serves at once; each open event stream holds one for as long as it is open.')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 100

@description('Trace sampler of the host and the app (OTEL_TRACES_SAMPLER): microsoft.rate_limited caps traces per second per instance, microsoft.fixed_percentage keeps a fraction.')
@allowed([
  'microsoft.rate_limited'
  'microsoft.fixed_percentage'
])
param traceSampler string = 'microsoft.rate_limited'

@description('OTEL_TRACES_SAMPLER_ARG: traces per second per instance, or the fraction (0 to 1) kept.')
param traceSamplerArgument string = '5'

@description('Whether Storage and Key Vault are reached only through private endpoints in a virtual network the app joins.')
param privateNetwork bool = false

@description('With privateNetwork: public addresses (comma-separated IPv4 addresses or CIDR ranges) Key Vault still lets in, so the post-provision hook can run from your machine; empty for none.')
param keyVaultAllowedIpAddresses string = ''

@description('Key Vault purge protection. Off by default so that erasing an account purges its provider keys; on, they stay recoverable by vault administrators for the vault\'s retention period.')
param keyVaultPurgeProtection bool = false

@description('Where the API\'s tables live (accounts, keys, the run projection and its event log, limits, idempotency): \'shared\' in the one Storage account with the durable backend; \'separate\' in a storage account of their own, so API traffic never slows the engine (one more account, billed by use). Choose it when first provisioning: switching an existing deployment starts the API\'s tables empty in the new account.')
@allowed([
  'shared'
  'separate'
])
param apiStorage string = 'shared'

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

// The Durable Task Scheduler needs Microsoft.Azure.Functions.Worker.Extensions.DurableTask.AzureManaged in the app and
// its storage provider in host.json (Flex's scaler reads the durable settings there, not from app settings); neither
// exists yet, and an app told to use a provider it lacks does not start. Refuse it before anything is created.
var checkedDurableBackend = durableBackend == 'DurableTaskScheduler'
  ? fail('ORCHFLOW_DURABLE_BACKEND=DurableTaskScheduler is not supported yet: Orchflow.Functions does not reference the Durable Task Scheduler extension (Microsoft.Azure.Functions.Worker.Extensions.DurableTask.AzureManaged) and host.json names the Azure Storage provider. Unset it (azd env set ORCHFLOW_DURABLE_BACKEND AzureStorage) and provision again.')
  : durableBackend
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var apiTablesAccountName = apiStorage == 'separate' ? 'stapi${resourceToken}' : ''
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

module network 'modules/network.bicep' = if (privateNetwork) {
  name: 'network'
  scope: rg
  params: {
    name: 'vnet-orchflow-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    dataPrincipalId: identity.outputs.principalId
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    privateNetwork: privateNetwork
  }
}

module apiTables 'modules/storage.bicep' = if (apiStorage == 'separate') {
  name: 'apiTables'
  scope: rg
  params: {
    name: apiTablesAccountName
    location: location
    tags: tags
    tablesOnly: true
    dataPrincipalId: identity.outputs.principalId
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    privateNetwork: privateNetwork
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
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    privateNetwork: privateNetwork
    allowedIpAddresses: empty(keyVaultAllowedIpAddresses) ? [] : map(split(keyVaultAllowedIpAddresses, ','), address => trim(address))
    purgeProtection: keyVaultPurgeProtection
  }
}

module privateEndpoints 'modules/private-endpoints.bicep' = if (privateNetwork) {
  name: 'privateEndpoints'
  scope: rg
  params: {
    namePrefix: 'pe-orchflow-${resourceToken}'
    location: location
    tags: tags
    subnetId: network!.outputs.endpointSubnetId
    storageAccountId: storage.outputs.id
    apiTablesAccountId: apiStorage == 'separate' ? apiTables!.outputs.id : ''
    keyVaultId: keyVault.outputs.id
    zoneIds: network!.outputs.zoneIds
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'functionApp'
  scope: rg
  // With a private network the app starts only once Storage and Key Vault answer on their private endpoints; the API's
  // own account, when it has one, is named here rather than read from its module, so it is waited for by name.
  dependsOn: [
    privateEndpoints
    apiTables
  ]
  params: {
    name: 'func-orchflow-${resourceToken}'
    planName: 'plan-orchflow-${resourceToken}'
    location: location
    tags: tags
    identityName: identity.outputs.name
    storageAccountName: storage.outputs.name
    apiTablesAccountName: apiTablesAccountName
    deploymentContainerName: deploymentContainerName
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    alwaysReadyDurableInstances: alwaysReadyDurableInstances
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    traceSampler: traceSampler
    traceSamplerArgument: traceSamplerArgument
    tablePrefix: tablePrefix
    trialRuns: trialRuns
    managedModelProvider: managedModelProvider
    managedModelName: managedModelName
    managedModelEndpoint: managedModelEndpoint
    corsAllowedOrigins: empty(corsAllowedOrigins) ? [] : map(split(corsAllowedOrigins, ','), origin => trim(origin))
    appSubnetId: privateNetwork ? network!.outputs.appSubnetId : ''
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output ORCHFLOW_DURABLE_BACKEND string = checkedDurableBackend
@description('Base URL of the Orchflow API.')
output ORCHFLOW_API_BASE_URL string = 'https://${functionApp.outputs.defaultHostName}/api/v1'
