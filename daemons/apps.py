from django.apps import AppConfig


class DaemonsConfig(AppConfig):
    name = "daemons"
    verbose_name = "Pools and daemons"

    def ready(self) -> None:
        from django.conf import settings

        import condor.workers
        from engine.signals import embedded_worker_starting

        condor.workers.configure(
            timeout=settings.CONDORWEB_HTCONDOR_TIMEOUT,
            workers_per_pool=settings.CONDORWEB_WORKERS_PER_POOL,
            fetch_workers=settings.CONDORWEB_FETCH_WORKERS,
            local_config_file=settings.CONDORWEB_LOCAL_CONDOR_CONFIG,
        )
        embedded_worker_starting.connect(_free_pool_locks, dispatch_uid="daemons.free_pool_locks")


def _free_pool_locks(**kwargs: object) -> None:
    from daemons.models import Pool
    from engine import queue

    queue.flush_locks(pool_ids=Pool.objects.values_list("pk", flat=True))
