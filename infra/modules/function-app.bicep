// The Orchflow Function App on the Flex Consumption plan (Linux, .NET isolated worker), running as
// the user-assigned identity. Every connection in its settings is identity-based; the two secrets
// it reads are Key Vault references, resolved by the platform with the same identity.

param name string
param planName string
param location string
param tags object

@description('User-assigned identity the app runs as.')
param identityName string

param storageAccountName string

@description('Blob container the plan deploys the app package from.')
param deploymentContainerName string

param keyVaultName string
param applicationInsightsName string

@description('Task hub of the durable backend; host.json names the same hub for local runs.')
param taskHubName string

@description('Control-queue partitions of the Azure Storage task hub; fixed once the hub exists.')
@minValue(1)
@maxValue(16)
param partitionCount int

@description('Endpoint of the Durable Task Scheduler; empty to use the Azure Storage backend.')
param durableTaskSchedulerEndpoint string = ''

@description('Most instances the plan scales the app out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Instances kept warm for HTTP and for durable triggers each (billed while idle); 0 for none.')
@minValue(0)
param alwaysReadyInstances int

@description('Prefix of every table name of the run projection.')
param tablePrefix string

@description('Managed trial runs per new account.')
@minValue(0)
param trialRuns int

@description('Provider of the managed (trial) model; empty for the built-in simulated model.')
param managedModelProvider string

@description('Model, or deployment for azure_openai, of the managed model.')
param managedModelName string

@description('Endpoint of the managed model (azure_openai, openai_compatible).')
param managedModelEndpoint string

@description('Origins of web pages on other sites that may call the API from the browser; empty for none.')
param corsAllowedOrigins array = []

import { secretNames } from 'secret-names.bicep'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

var clientId = identity.properties.clientId
var useScheduler = !empty(durableTaskSchedulerEndpoint)

var appSettings = {
  // Functions host storage and the Durable extension's Azure Storage backend.
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: clientId
  // DefaultAzureCredential in the app (tables, Key Vault) picks the user-assigned identity from this.
  AZURE_CLIENT_ID: clientId
  // The connection string only locates the resource; ingestion is authorized by the identity.
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${clientId};Authorization=AAD'
  AzureFunctionsJobHost__extensions__durableTask__hubName: taskHubName
  Orchflow__Storage__TableServiceUri: storage.properties.primaryEndpoints.table
  Orchflow__Storage__TablePrefix: tablePrefix
  // Webhook deliveries travel on this queue: the app sends with the identity, the queue trigger reads it through
  // AzureWebJobsStorage; both name it by this setting.
  Orchflow__Storage__QueueServiceUri: storage.properties.primaryEndpoints.queue
  Orchflow__Webhooks__Queue: 'orchflow-webhooks'
  Orchflow__Secrets__VaultUri: vault.properties.vaultUri
  // Key Vault references without a version follow the newest version of the secret.
  Orchflow__Security__ApiKeyPepper: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=${secretNames.apiKeyPepper})'
  Orchflow__ManagedModel__Provider: managedModelProvider
  Orchflow__ManagedModel__Model: managedModelName
  Orchflow__ManagedModel__Endpoint: managedModelEndpoint
  Orchflow__ManagedModel__ApiKey: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=${secretNames.managedModelApiKey})'
  Orchflow__TrialRuns: string(trialRuns)
  // Registration is limited per caller address; behind Azure's front end the connection is the proxy's.
  Orchflow__RateLimit__ClientAddressHeader: 'X-Forwarded-For'
}

// The platform's CORS (siteConfig.cors below) answers preflights and allows these origins; the app reads the same
// list to expose the headers browser clients read, which the platform has no setting for.
var corsSettings = toObject(range(0, length(corsAllowedOrigins)), i => 'Orchflow__Cors__AllowedOrigins__${i}', i => corsAllowedOrigins[i])

// The Azure Storage backend is host.json's choice; only its partition count is a deployment parameter.
var azureStorageBackendSettings = {
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__partitionCount: string(partitionCount)
}

// The scheduler replaces host.json's Azure Storage provider, in Azure only.
var schedulerBackendSettings = {
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'azureManaged'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
  // Not a secret: it names the endpoint and the identity; access is granted by role.
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${durableTaskSchedulerEndpoint};Authentication=ManagedIdentity;ClientID=${clientId}'
}

// Flex Consumption scales HTTP triggers and durable triggers as separate groups.
var alwaysReady = alwaysReadyInstances == 0
  ? []
  : [
      {
        name: 'http'
        instanceCount: alwaysReadyInstances
      }
      {
        name: 'durable'
        instanceCount: alwaysReadyInstances
      }
    ]

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      minTlsVersion: '1.2'
      cors: {
        allowedOrigins: corsAllowedOrigins
        // The API key is a header the page's script sends, never a cookie.
        supportCredentials: false
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: alwaysReady
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }

  resource settings 'config' = {
    name: 'appsettings'
    properties: union(appSettings, useScheduler ? schedulerBackendSettings : azureStorageBackendSettings, corsSettings)
  }

  // Deployments authenticate with Microsoft Entra ID; publishing user names and passwords are off.
  resource ftpCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: {
      allow: false
    }
  }

  resource scmCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: {
      allow: false
    }
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
