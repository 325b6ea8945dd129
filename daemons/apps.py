from django.apps import AppConfig


class DaemonsConfig(AppConfig):
    name = "daemons"
    verbose_name = "Pools and daemons"

    def ready(self) -> None:
        from django.conf import settings

        import condor.workers

        condor.workers.configure(
            timeout=settings.CONDORWEB_HTCONDOR_TIMEOUT,
            workers_per_pool=settings.CONDORWEB_WORKERS_PER_POOL,
            fetch_workers=settings.CONDORWEB_FETCH_WORKERS,
            local_config_file=settings.CONDORWEB_LOCAL_CONDOR_CONFIG,
        )
